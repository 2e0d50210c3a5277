import Foundation
import Testing

/// `drctl whatif`: the site built from an inventory, a failure applied, the matching runbook run
/// in virtual time; and the site of a recorded run rebuilt as a scenario (`drctl sim from-run`).
@Suite("what-if and sites from runs")
struct WhatIfTests {
    static func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-whatif-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Two survivors of 64 GB; esxi-01's VMs: a P1 database, two P2 apps kept apart, a VM too big
    /// for any survivor, one on esxi-01's own disk. Every duration but power-on (3 s) and the SSH
    /// handshake (1 s) is zero, guests boot in 10 s: the times below are worked out by hand.
    static let inventory = """
        hosts:
          - { name: esxi-01, address: 10.0.0.11, memory_mb: 262144 }
          - { name: esxi-02, address: 10.0.0.12, memory_mb: 65536 }
          - { name: esxi-03, address: 10.0.0.13, memory_mb: 65536 }
        datastores:
          - { name: ds-shared, hosts: [esxi-01, esxi-02, esxi-03] }
          - { name: ds-local-01, hosts: [esxi-01] }
        vms:
          - { name: db, priority: 1, host: esxi-01, datastore: ds-shared, memory_mb: 16384 }
          - { name: app-a, priority: 2, depends_on: [db], host: esxi-01, datastore: ds-shared, memory_mb: 8192, anti_affinity: app }
          - { name: app-b, priority: 2, depends_on: [db], host: esxi-01, datastore: ds-shared, memory_mb: 8192, anti_affinity: app }
          - { name: huge, priority: 3, host: esxi-01, datastore: ds-shared, memory_mb: 131072 }
          - { name: scratch, priority: 5, host: esxi-01, datastore: ds-local-01, memory_mb: 2048 }
          - { name: mon, priority: 1, host: esxi-02, datastore: ds-shared, memory_mb: 4096 }
          - { name: spare, priority: 5, host: esxi-01, datastore: ds-shared, memory_mb: 4096, power_on: false }
        """

    static let durations = """
        scenario: durations
        hosts: [{ name: x }]
        durations:
          jitter: 0%
          ssh_connect: 1s
          shell: 0s
          vim_cmd_read: 0s
          esxcli_read: 0s
          answer: 0s
          registervm: 0s
          power_on: 3s
          guest_boot: { linux: 10s, windows: 10s, other: 10s }
        """

    @Test("one host fails: VMs hit, the one that fits nowhere and why, when each group is back, the RTO verdict; times by hand")
    func oneHost() async throws {
        let directory = try Self.directory()
        try Self.inventory.write(to: directory.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
        try Self.durations.write(to: directory.appendingPathComponent("durations.yaml"), atomically: true, encoding: .utf8)
        let result = try await CLI.run(["whatif", "--inventory", directory.appendingPathComponent("site.yaml").path, "--fail", "esxi-01",
                                        "--durations", directory.appendingPathComponent("durations.yaml").path, "--param", "tools_timeout=1m"])
        let out = result.stdout
        #expect(result.status == 0, "\(out)\(result.stderr)")
        // The reads run side by side and each survivor's first pays the 1 s handshake: 1 s.
        // P1 db from 1 s: power-on 3 s, then it waits on msg.uuid.altered (it moved host), answered
        // at the watch's next 250 ms poll (1.05 + 12 x 0.25 = 4.05 s); its guest runs Tools 10 s later,
        // seen by the check at 14.05 s (every 5 s from 4.05 s). P2 from 14.05 s: the watch polls at
        // 14.1 + 0.25k, the question is answered at 17.1 s, Tools at 27.1 s. huge fits nowhere, so
        // the run ends partial.
        #expect(out.contains("host esxi-01  host-failure  5        2             14.1s    27.1s    not back  not back  no        not met: the run ends partial (27.1s)"),
                "\(out)")
        #expect(out.contains("power-on [db]") && out.contains("14.1s   → 27.1s   power-on [app-"), "the critical path: \(out)")
        #expect(out.contains("huge: needs 131072 MB; the most any host that mounts ds-shared has left is"), "\(out)")
        #expect(out.contains("scratch: not on any datastore a survivor mounts (ds-local-01)"), "\(out)")
        #expect(!out.contains("spare:"), "a VM left off by power_on: false is neither unplaceable nor lost: \(out)")
    }

    @Test("--all-hosts answers the N+1 question for every host; markdown and HTML say the same; bad flags exit 2")
    func allHosts() async throws {
        let directory = try Self.directory()
        let site = directory.appendingPathComponent("site.yaml").path
        try Self.inventory.write(toFile: site, atomically: true, encoding: .utf8)
        let markdown = try await CLI.run(["whatif", "--inventory", site, "--all-hosts", "--format", "md"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        for host in ["esxi-01", "esxi-02", "esxi-03"] { #expect(markdown.stdout.contains("| host \(host) | host-failure |"), "\(markdown.stdout)") }
        #expect(markdown.stdout.contains("| host esxi-03 | host-failure | 0 | 0 |"), "nothing ran on esxi-03")
        let html = directory.appendingPathComponent("n1.html").path
        #expect(try await CLI.run(["whatif", "--inventory", site, "--all-hosts", "--format", "html", "-o", html]).status == 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<td>host esxi-01</td>") && page.contains("huge: needs 131072 MB; the most any host that mounts ds-shared"))
        let bad = try await CLI.run(["whatif", "--inventory", site, "--fail", "esxi-9"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--fail esxi-9: not an ESXi host of \(site)"), "\(bad.stderr)")
        #expect(bad.stderr.contains("esxi-0"), "suggests a name")
        #expect(try await CLI.run(["whatif", "--inventory", site]).stderr.contains("name a failure"))
        let elsewhere = try await CLI.run(["whatif", "--inventory", site, "--fail", "esxi-01", "--runbooks", "/nonexistent"])
        #expect(elsewhere.status == 2 && elsewhere.stderr.contains("--runbooks DIR"), "\(elsewhere.stderr)")
    }

    @Test("a drill's record rebuilt as a scenario: the failed host down, its VMs where they were, and the drill against it ends the same")
    func fromRun() async throws {
        let runs = try Self.directory().appendingPathComponent("runs").path
        let drill = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml", "--param", "failed_host=esxi-01",
                                       "--auto-approve", "--runs-dir", runs])
        #expect(drill.status == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.first?.isNumber == true })
        let file = URL(fileURLWithPath: runs).deletingLastPathComponent().appendingPathComponent("site.yaml").path
        let rebuilt = try await CLI.run(["sim", "from-run", run, "--runs-dir", runs, "-o", file])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout.contains("3 hosts (down: esxi-01), 3 datastores, 7 VMs, 5 end-state checks from the run's goal"), "\(rebuilt.stdout)")
        let scenario = try String(contentsOfFile: file, encoding: .utf8)
        #expect(scenario.contains("state: down"))
        #expect(scenario.contains("{name: ds-local-01,") && scenario.contains("hosts: [esxi-01]}"), "the failed host's own disk, seen by it alone")
        #expect(scenario.contains("name: mon-01, datastore: ds-shared-02, path: mon-01/mon-01.vmx, host: esxi-02"), "where the survivors ran it")
        #expect(scenario.contains("expect_outcome: handed off"))
        #expect(scenario.contains("- {vm: db-01, power: \"on\", registered: true}"), "what the run's goal held is what the drill checks")
        #expect(scenario.contains("- {vm: web; reboot, power: \"on\", registered: true}"))
        #expect(!scenario.contains("{vm: scratch-01"), "scratch-01 was handed off, not recovered: not checked")
        let again = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", file, "--param", "failed_host=esxi-01", "--auto-approve",
                                       "--runs-dir", runs])
        #expect(again.status == 0, "\(again.stdout)")
        #expect(again.stdout.contains("Run: handed off"))
        #expect(again.stdout.contains("→ scratch-01 (handed off to the manual step)"))
        #expect(again.stdout.contains("DRILL PASSED: 5 of 5 checks hold"), "\(again.stdout)")
        // The same scenario without its checks proves only the run's own goal, and says so.
        let unchecked = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("unchecked.yaml").path
        try String(scenario[..<scenario.range(of: "expect:\n")!.lowerBound]).write(toFile: unchecked, atomically: true, encoding: .utf8)
        let bare = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", unchecked, "--param", "failed_host=esxi-01", "--auto-approve",
                                      "--runs-dir", runs])
        #expect(bare.status == 1, "no checks is no pass")
        #expect(bare.stdout.contains("DRILL NOT CHECKED: the scenario declares no end-state checks, so this drill proves only the run's own goal (5 of 6 hold"))
        #expect(!bare.stdout.contains("DRILL PASSED"))
        #expect(try await CLI.run(["sim", "from-run", "no-such-run", "--runs-dir", runs]).status == 2)
    }

    @Test("a generated site whose shape nobody picked: every host answered, and the same seed predicts the same times on every run")
    func generatedSiteIsDeterministic() async throws {
        let directory = try Self.directory()
        let scenario = directory.appendingPathComponent("scenario.yaml").path, site = directory.appendingPathComponent("site.yaml").path
        #expect(try await CLI.run(["sim", "generate", "--seed", "99", "--hosts", "6", "--vms", "80", "--failure", "datastore", "-o", scenario]).status == 0)
        #expect(try await CLI.run(["sim", "inventory", "--scenario", scenario, "-o", site]).status == 0)
        func table() async throws -> [String] {
            let result = try await CLI.run(["whatif", "--inventory", site, "--all-hosts"])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("What if:") }
        }
        let first = try await table()
        #expect(first.filter { $0.hasPrefix("host esxi-") }.count == 6, "\(first)")
        #expect(try await table() == first, "tasks due at one instant get their slots in a fixed order, and draws are keyed by time")
    }
}
