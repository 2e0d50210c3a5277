import Foundation
import Testing

let hostFailureDrill = ["Runbooks/host-failure.yaml", "--param", "failed_host=esxi-01"]
let datastoreFailureDrill = ["Runbooks/datastore-failure.yaml", "--param", "datastore=ds-gold", "--param", "return_timeout=10m"]
let vcenterLossDrill = ["Runbooks/vcenter-loss.yaml", "--param", "vcenter=vcsa", "--param", "appliance_vm=vcsa-01"]

/// Every runbook drilled against every scenario, through the real `drctl drill` command.
@Suite("drills")
struct DrillTests {
    static let hostFailure = hostFailureDrill
    static let datastoreFailure = datastoreFailureDrill
    static let vcenterLoss = vcenterLossDrill

    func drill(_ runbook: [String], _ scenario: String, _ extra: [String] = ["--auto-approve"]) async throws -> CLI.Result {
        try await CLI.run(["drill", runbook[0], "--scenario", "Simulator/\(scenario).yaml"] + runbook.dropFirst() + extra)
    }

    @Test("host failure: every VM on shared storage comes back on a survivor, hostile names included; the local one is handed off")
    func hostFailure() async throws {
        let result = try await drill(Self.hostFailure, "host-failure")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = result.stdout
        #expect(report.contains("DRILL PASSED: 6 of 6 checks hold. Run handed off, as expected."))
        for vm in ["db-01", "app-01", "app-02", "web; reboot", "ops $(id)"] {
            #expect(report.contains("✓ vm \(vm) powered on"), "\(vm) not recovered")
        }
        #expect(report.contains("approve-recovery: approved by"))
        // scratch-01 sat on the dead host's own disk: a restore from backup, and the RTO is not met.
        #expect(report.contains("→ scratch-01 (handed off to the manual step)"))
        #expect(report.contains("5 of 6 hold; handed off: scratch-01"))
        #expect(report.range(of: #"recovery took \S+ against a target of 30m00s: not met \(the run ended handed off: only a run that succeeded meets an RTO\)"#, options: .regularExpression) != nil)
        #expect(report.contains("vim-cmd solo/registervm '/vmfs/volumes/ds-shared-02/web; reboot/web; reboot.vmx'"))
        #expect(!report.contains("golden-rhel9"), "templates are never registered")
        #expect(!report.contains("register [scratch-01]"), "a VM on the failed host's local disk cannot be recovered")
    }

    @Test("host failure, a survivor dies mid-run: partial, naming what is lost, never a hang")
    func survivorFails() async throws {
        let result = try await drill(Self.hostFailure, "host-failure-survivor-fails")
        #expect(result.status == 0, "the scenario expects partial: \(result.stdout)")
        #expect(result.stdout.contains("Run: partial"))
        #expect(result.stdout.contains("✗ db-01 NOT RECOVERED"))
        #expect(result.stdout.contains("Faults injected: latency 2ms + up to 3ms; host esxi-03 is down"), "standing faults and the one that fired")
        // Depending on timing the power-on meets a dead host or loses its session as the host dies.
        #expect(result.stdout.contains("esxi-03: connection refused: the host is down") || result.stdout.contains("esxi-03: session dropped: the host went down"))
        #expect(result.stdout.contains("DRILL PASSED"))
    }

    @Test("host failure, a power-on fails: partial; the fault is shown and its dependents do not start")
    func powerOnFails() async throws {
        let result = try await drill(Self.hostFailure, "host-failure-power-on-fails")
        #expect(result.status == 0, "the scenario expects partial: \(result.stdout)")
        #expect(result.stdout.contains("Run: partial"))
        #expect(result.stdout.contains("not recovered: app-01, web; reboot"))
        #expect(result.stdout.contains("✗ power-on [app-01]"))
        #expect(result.stdout.contains("vim.fault.GenericVmConfigFault: Module 'MonitorMode' power on failed."))
        #expect(result.stdout.contains("app-01, which it depends on, did not succeed in power-on"))
        #expect(result.stdout.contains("✓ vm db-01 powered on"))
    }

    @Test("datastore failure: the snapshot LUN is mounted, invalid VMs registered again, running ones powered on")
    func datastoreFailure() async throws {
        let result = try await drill(Self.datastoreFailure, "datastore-failure")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("approve-snapshot-mount: approved by"))
        #expect(result.stdout.contains("✓ datastore ds-gold mounted on esxi-01, esxi-02, esxi-03"))
        #expect(result.stdout.contains("✓ vm erp web (eu) powered on"))
        #expect(result.stdout.contains("✓ vm reporting powered off"), "a VM that was off stays off")
        #expect(result.stdout.contains("DRILL PASSED"))
    }

    @Test("datastore never returns: handed off to the restore, which records who confirmed it; never succeeded")
    func datastoreNeverReturns() async throws {
        let result = try await drill(Self.datastoreFailure, "datastore-never-returns")
        #expect(result.status == 0, "the scenario expects handed off: \(result.stdout)")
        #expect(result.stdout.contains("Run: handed off"))
        #expect(result.stdout.contains("not met (the run ended handed off: only a run that succeeded meets an RTO)"))
        #expect(result.stdout.contains("restore-from-backup: approved by"))
        #expect(result.stdout.contains("did not hold within 10m00s"))
        #expect(result.stdout.contains("→ erp-db (handed off to the manual step)"))
    }

    @Test("datastore failure, zoning not in the inventory: presumed presented to every host, said so in the approval, and recovered")
    func datastoreUnzoned() async throws {
        let runs = NSTemporaryDirectory() + "drctl-unzoned-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let result = try await drill(Self.datastoreFailure, "datastore-unzoned", ["--auto-approve", "--runs-dir", runs])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Run: succeeded"))
        #expect(result.stdout.contains("✓ esxi-01: ds-gold is mounted on esxi-01, esxi-02, esxi-03"), "the goal checks every host that uses it")
        #expect(result.stdout.contains("7 of 7 hold"), "3 hosts and 4 VMs")
        let journal = CrashHarness.journalText(in: runs)
        #expect(journal.contains("presumed presented to every ESXi host of the inventory"), "the approver is told the zoning is a presumption")
    }

    @Test("a datastore no host lists and the inventory does not know: refused at the first read, naming the known ones; never succeeded")
    func datastoreUnknown() async throws {
        let result = try await drill(Self.datastoreFailure, "datastore-unknown")
        #expect(result.status == 0, "the scenario expects failed: \(result.stdout)")
        #expect(result.stdout.contains("Run: failed"))
        #expect(result.stdout.contains("no host lists ds-gold and the inventory does not say which hosts use it: check the name. The hosts list ds-silver"))
        #expect(result.stdout.contains("(none asked)"), "nothing was approved, so nothing changed")
        #expect(!result.stdout.contains("RTO met") && !result.stdout.contains("Run: succeeded"))
    }

    @Test("an invalid registration of another datastore is shown to the approver and left alone; only the lost datastore's are removed")
    func invalidElsewhere() async throws {
        let runs = NSTemporaryDirectory() + "drctl-invalid-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let result = try await drill(Self.datastoreFailure, "datastore-failure-invalid-elsewhere", ["--auto-approve", "-v", "--runs-dir", runs])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("cat /etc/vmware/hostd/vmInventory.xml"), "hostd's own list is read")
        let unregistered = result.stdout.split(separator: "\n").filter { $0.contains("vim-cmd vmsvc/unregister") }
        #expect(unregistered.count == 4, "the four registrations of ds-gold: \(unregistered)")
        #expect(!unregistered.contains { $0.contains("old-crm") || $0.contains("on esxi-02: vim-cmd vmsvc/unregister 3") }, "old-crm is not this incident's")
        let journal = CrashHarness.journalText(in: runs)
        #expect(journal.contains("invalid registrations of other datastores, left alone: vmid 3 on esxi-02 (/vmfs/volumes/"), "the approver sees it")
    }

    @Test("a VM the inventory does not list is shown to the approver, never ignored; --param include recovers it with its .vmx's memory")
    func unknownVM() async throws {
        let runs = NSTemporaryDirectory() + "drctl-unknown-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let shown = try await drill(Self.hostFailure, "host-failure-unknown-vm", ["--auto-approve", "--runs-dir", runs + "/a"])
        #expect(shown.status == 0, "\(shown.stdout)\(shown.stderr)")
        #expect(CrashHarness.journalText(in: runs + "/a").contains("not in the inventory (was it on the failed host? --param include=NAME recovers it): srv-erp-01: [ds-shared-02] srv-erp-01/srv-erp-01.vmx"))
        let included = try await drill(Self.hostFailure, "host-failure-unknown-vm", ["--param", "include=srv-erp-01", "--auto-approve", "--runs-dir", runs + "/b"])
        #expect(included.stdout.contains("✓ srv-erp-01: powered on, on esxi-0"), "\(included.stdout)")
        #expect(included.stdout.contains("srv-erp-01 (priority 3, 16384 MB) -> esxi-0") || CrashHarness.journalText(in: runs + "/b").contains("srv-erp-01 (priority 3, 16384 MB) -> esxi-0"),
                "its memory comes from its .vmx")
    }

    @Test("a survivor that accepts SSH and hangs costs one read timeout, once, not ten minutes per step")
    func stalledSurvivor() async throws {
        let result = try await drill(Self.hostFailure, "host-failure-stalled-survivor")
        #expect(result.status == 0, "the scenario expects partial: \(result.stdout)")
        #expect(result.stdout.contains("no answer from esxi-03: command timed out: `vmkping"), "the first read pays the read timeout")
        #expect(result.stdout.contains("within 1m00s"))
        #expect(result.stdout.contains("no answer from esxi-03: left out: it did not answer a read (step network-check) within 1m00s"), "later reads go on without it")
        // Virtual time: the whole recovery, one read timeout included, is a few minutes (20 before).
        let took = try #require(result.stdout.firstMatch(of: /recovery took (\d+)m(\d+)s/))
        #expect(Int(took.1)! < 6, "\(took.0)")
    }

    @Test("vCenter loss, every variant: the appliance comes back and vCenter answers",
          arguments: ["vcenter-loss", "vcenter-services-down", "vcenter-host-failed", "vcenter-booting", "vcenter-booting-in-place"])
    func vcenterLoss(_ scenario: String) async throws {
        let result = try await drill(Self.vcenterLoss, scenario)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✓ vCenter running"))
        #expect(result.stdout.contains("checks-in-vcenter: approved by"))
    }

    @Test("a service the appliance starts by hand that the runbook does not know: services-up fails, and though vCenter answers the run is never called succeeded")
    func vcenterManualServices() async throws {
        let result = try await drill(Self.vcenterLoss, "vcenter-manual-services")
        #expect(result.status == 0, "the scenario expects partial: \(result.stdout)")
        #expect(result.stdout.contains("Run: partial"))
        #expect(result.stdout.contains("2 of 2 hold; but step 'services-up' failed"))
        #expect(result.stdout.contains("step 'checks-in-vcenter' did not run"))
        #expect(!result.stdout.contains("Run: succeeded") && !result.stdout.contains("RTO 30m00s: met"))
    }

    @Test("the appliance on a dead host is registered on a survivor")
    func vcenterHostFailed() async throws {
        let result = try await drill(Self.vcenterLoss, "vcenter-host-failed")
        #expect(result.stdout.contains("vim-cmd solo/registervm /vmfs/volumes/ds-mgmt/vcsa-01/vcsa-01.vmx"))
        #expect(result.stdout.contains("no answer from esxi-02"), "the discovery goes on without the dead host, and says so")
    }

    @Test("a booting appliance: its failing shell is evidence of not ready; the run waits for it, starts the automatic services, ignores the manual ones")
    func vcenterBooting() async throws {
        let result = try await drill(Self.vcenterLoss, "vcenter-booting")
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("✓ appliance-ready"))
        #expect(result.stdout.contains("✓ services-up"))
        #expect(result.stdout.contains("answered HTTP 200"))
    }

    @Test("site realities: each scenario ends as a correct runbook must",
          arguments: [(hostFailureDrill, "host-failure-partial-zoning", "Run: succeeded"),
                      (hostFailureDrill, "host-failure-renamed-vm", "✓ crm-app: powered on, on"),
                      (hostFailureDrill, "host-failure-escaped-names", "✓ web/01: powered on, on"),
                      (hostFailureDrill, "host-failure-escaped-names", "✓ web [old]: powered on, on"),
                      (hostFailureDrill, "host-failure-late-registration", "DRILL PASSED"),
                      (["Runbooks/host-failure.yaml", "--param", "failed_host=esxi-04"], "host-failure-unlucky-order", "Run: succeeded"),
                      (datastoreFailureDrill, "datastore-failure-second-host-down", "2 of 3 hosts answered; no answer from esxi-03")])
    func siteRealities(_ runbook: [String], _ scenario: String, _ expected: String) async throws {
        let result = try await drill(runbook, scenario)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("DRILL PASSED"), "\(result.stdout)")
        #expect(result.stdout.contains(expected), "\(result.stdout)")
    }

    @Test("partial zoning: a refused registration moves on to the next host that mounts the datastore, and says why")
    func partialZoning() async throws {
        let result = try await drill(Self.hostFailure, "host-failure-partial-zoning")
        #expect(result.stdout.contains("register [app-db] on esxi-04"))
        #expect(result.stdout.contains("after esxi-03: "), "the fallback names the host that refused and why")
        for vm in ["app-db", "app-api", "batch-01"] {
            #expect(!result.stdout.contains("register [\(vm)] on esxi-02"), "\(vm) tried on esxi-02, which does not mount ds-app")
        }
        #expect(result.stdout.contains("✓ batch-01: powered off, on esxi-04"), "power_on: false is registered and left off")
    }

    @Test("without --auto-approve and no terminal, a drill stops at the first approval with exit 3")
    func stopsAtApproval() async throws {
        let result = try await drill(Self.hostFailure, "host-failure", [])
        #expect(result.status == 3)
        #expect(result.stdout.contains("approve-recovery: nobody could answer"))
    }

    @Test("a dry-run against a scenario plans with the real VM names and changes nothing",
          arguments: [(hostFailureDrill, "host-failure", "register [web; reboot] on esxi-02"),
                      (datastoreFailureDrill, "datastore-failure", "APPROVAL: ds-gold is not mounted on esxi-01, esxi-02, esxi-03"),
                      (vcenterLossDrill, "vcenter-host-failed", "appliance VM: not registered on any host that answers")])
    func dryRun(_ runbook: [String], _ scenario: String, _ expected: String) async throws {
        let result = try await drill(runbook, scenario, ["--dry-run"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains(expected), "\(result.stdout)")
        #expect(!result.stdout.contains("Drill report"))
    }
}

/// The same drills through a real sshd and the libssh2 transport.
@Suite("drills over SSH", .enabled(if: getuid() == 0, "needs root to start sshd and add its login user"))
struct DrillsOverSSHTests {
    @Test("each runbook reaches the same end state over SSH as in process",
          arguments: [(hostFailureDrill, "host-failure", "DRILL PASSED: 6 of 6 checks hold."),
                      (datastoreFailureDrill, "datastore-failure", "DRILL PASSED: 6 of 6 checks hold."),
                      (vcenterLossDrill, "vcenter-host-failed", "DRILL PASSED: 2 of 2 checks hold.")])
    func viaSSH(_ runbook: [String], _ scenario: String, _ verdict: String) async throws {
        let result = try await CLI.run(["drill", runbook[0], "--scenario", "Simulator/\(scenario).yaml"] + runbook.dropFirst() + ["--auto-approve", "--via-ssh"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("over SSH to a local sshd"))
        #expect(result.stdout.contains(verdict))
    }

    @Test("a drill over SSH records the host keys it used, in its run's journal")
    func journalOverSSH() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-journal-\(UUID().uuidString.prefix(6))").path
        let result = try await CLI.run(["drill"] + hostFailureDrill + ["--scenario", "Simulator/host-failure.yaml", "--auto-approve", "--via-ssh", "--runs-dir", runs])
        #expect(result.status == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        let journal = try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8)
        let entries = journal.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entries.first?["type"] as? String == "run-started")
        #expect(entries.suffix(2).compactMap { $0["type"] as? String } == ["run-ended", "drill-verdict"])
        #expect(entries.contains { ($0["type"] as? String) == "connection" && (($0["detail"] as? String)?.contains("SHA256:") ?? false) })
        #expect(entries.contains { ($0["type"] as? String) == "approval-given" && $0["by"] != nil })
    }
}

@Suite("Ctrl-C")
struct InterruptTests {
    @Test("SIGINT stops dispatching, lets running commands finish, reports what ran, and exits 130")
    func interrupt() async throws {
        let scenario = try CLI.temporaryFile("slow.yaml", """
        scenario: slow
        base: \(CLI.root.path)/Simulator/host-failure.yaml
        faults:
          - { latency: { fixed: 400ms } }
        durations: none
        """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        let runs = CrashHarness().runsDirectory
        // In real time: each command's 400 ms is what leaves room for the Ctrl-C.
        process.arguments = ["drill", "Runbooks/host-failure.yaml", "--scenario", scenario, "--param", "failed_host=esxi-01", "--auto-approve", "--real-time", "--runs-dir", runs]
        process.currentDirectoryURL = CLI.root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Ctrl-C once the first change is on its way (each command takes 400 ms here): decided by the
        // journal, watched from a thread of its own (a busy test pool can wake a sleeping task late).
        let pid = process.processIdentifier
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                while process.isRunning && !CrashHarness.journalText(in: runs).contains("\"type\":\"command-sent\"") { usleep(2_000) }
                kill(pid, SIGINT)
                continuation.resume()
            }.start()
        }
        let text: String = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) }.start()
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(text)")
        #expect(text.contains("Interrupted: no new steps will start"))
        #expect(text.contains("interrupted before it started"))
        #expect(text.contains("Run: interrupted"))
        #expect(text.contains("To go on from here: drctl resume"))
        let journal = try String(contentsOfFile: "\(runs)/\(try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first))/journal.jsonl", encoding: .utf8)
        #expect(journal.contains("\"type\":\"run-paused\""), "a paused run says so in its journal")
    }
}

@Suite("--real-time")
struct RealTimeDrillTests {
    @Test("--real-time paces ESXi's own durations on the wall clock: a power-on takes the scenario's power_on")
    func pacesDurations() async throws {
        let scenario = try CLI.temporaryFile("paced.yaml", """
        scenario: paced
        base: \(CLI.root.path)/Simulator/host-failure.yaml
        durations: { jitter: 0%, ssh_connect: 0s, shell: 0s, vim_cmd_read: 0s, esxcli_read: 0s, registervm: 0s, power_on: 400ms, power_off: 0s,
                     unregister: 0s, answer: 0s, rescan_per_adapter: 0s, snapshot_mount: 0s, hostd_restart: 0s, maintenance: 0s, vcsa_boot: 0s,
                     vcsa_services_start: 0s, guest_boot: { linux: 0s, windows: 0s, other: 0s } }
        """)
        let runs = CrashHarness().runsDirectory
        let result = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", scenario, "--param", "failed_host=esxi-01",
                                        "--param", "tools_timeout=0s", "--auto-approve", "--real-time", "--runs-dir", runs])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        // What the record says each power-on took (the wall clock's, in real time), never less than ESXi's 400 ms.
        let powerOns = CrashHarness.journalText(in: runs).split(separator: "\n")
            .filter { $0.contains("\"type\":\"command-finished\"") && $0.contains("vim-cmd vmsvc/power.on ") }
        #expect(powerOns.count == 5)
        for line in powerOns {
            let milliseconds = Int(line.firstMatch(of: /"duration_ms":(\d+)/)!.1)!
            #expect(milliseconds >= 400, "\(line.prefix(200))")
        }
    }
}

@Suite("redaction in drills")
struct DrillRedactionTests {
    @Test("output matching the runbook's redact patterns is masked on screen and in the whole run directory")
    func redactPatterns() async throws {
        let runbook = try CLI.temporaryFile("versions.yaml", """
        runbook: versions
        redact: ['Releasebuild-\\d+']
        steps:
          - { id: version, on: esxi-02, mutates: false, run: "esxcli system version get" }
        """)
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-redact-\(UUID().uuidString.prefix(6))").path
        let result = try await CLI.run(["drill", runbook, "--scenario", "Simulator/host-failure.yaml", "--auto-approve", "-v", "--runs-dir", runs])
        #expect(result.stdout.contains("Build: [redacted]"), "\(result.stdout)")
        #expect(!result.stdout.contains("Releasebuild-"))
        let grep = Process()
        grep.executableURL = URL(fileURLWithPath: "/bin/grep")
        grep.arguments = ["-r", "-q", "Releasebuild-", runs]
        try grep.run()
        grep.waitUntilExit()
        #expect(grep.terminationStatus == 1, "the pattern's text is somewhere in the run directory")
    }
}
