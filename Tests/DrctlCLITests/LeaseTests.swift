import Foundation
import Testing

@Suite("one run per host at a time")
struct LeaseTests {
    /// `drctl run` of a runbook that only asks an approval (so, without a terminal, it pauses and
    /// keeps its leases) on two hosts nothing contacts; and its runs directory.
    static func gateRun() throws -> (arguments: [String], runs: String) {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-lease-\(UUID().uuidString.prefix(8))").path
        let runbook = try CLI.temporaryFile("gate.yaml", "runbook: gate\nsteps:\n  - { id: ok, approval: \"Go?\" }\n")
        let inventory = try CLI.temporaryFile("site.yaml", """
        hosts:
          - { name: esxi-01, address: 127.0.0.1, port: 1, auth: prompt }
          - { name: esxi-02, address: 127.0.0.1, port: 1, auth: prompt }
        """)
        return (["run", runbook, "--inventory", inventory, "--runs-dir", runs], runs)
    }

    @Test("a second run on leased hosts refuses, naming the first; abandon releases them; --ignore-leases is recorded; dry-runs and drills take none")
    func leases() async throws {
        let (run, runs) = try Self.gateRun()
        #expect(try await CLI.run(run).status == 3, "paused at its approval: unfinished, it keeps its leases")
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first { $0 != "leases" })
        let second = try await CLI.run(run)
        #expect(second.status == 2)
        #expect(second.stderr.contains("esxi-01 is leased by run \(first)"), "\(second.stderr)")
        #expect(try await CLI.run(run + ["--dry-run"]).status == 0, "a dry-run changes nothing and takes no lease")
        #expect(try await CLI.run(["drill"] + CrashHarness.drills[2].arguments + ["--auto-approve", "--runs-dir", runs]).status == 0, "nor does a drill")
        let forced = try await CLI.run(run + ["--ignore-leases"])
        #expect(forced.status == 3)
        #expect(try await CLI.run(["runs", "abandon", first, "--reason", "done by hand", "--runs-dir", runs]).status == 0)
        let resumed = try await CLI.run(["resume", first, "--runs-dir", runs])
        #expect(resumed.status == 2 && resumed.stderr.contains("was abandoned (by"), "\(resumed.stderr)")
        #expect(try await CLI.run(run).status == 3, "the leases went with the abandoned run")
        let listing = try await CLI.run(["runs", "--runs-dir", runs]).stdout
        #expect(listing.contains("\(first)") && listing.contains("abandoned"))
        let journals = try FileManager.default.contentsOfDirectory(atPath: runs).compactMap { try? String(contentsOfFile: "\(runs)/\($0)/journal.jsonl", encoding: .utf8) }
        #expect(journals.contains { $0.contains("\"flags\":[\"--ignore-leases\"]") })
    }
}

/// Kills where the leases are taken and where a signed checkpoint is written (run by
/// `make crash-test` too).
@Suite("kills during leases and signing")
struct LeaseAndSigningCrashTests {
    @Test("killed while taking its leases: the run never began, and the next run is not locked out")
    func killedTakingLeases() async throws {
        let (run, _) = try LeaseTests.gateRun()
        #expect(try await CrashHarness.spawn(run, environment: ["DRCTL_FAILPOINT": "lease:1"]) == .killed)
        #expect(try await CLI.run(run).status == 3, "a lease naming a run that never wrote a journal is taken over")
    }

    @Test("killed at a signed checkpoint, resumed with the key: every checkpoint still verifies",
          arguments: ["run-paused:1", "run-ended:1", "run-ended:1:torn"])
    func killedAtSignedCheckpoint(_ point: String) async throws {
        let harness = CrashHarness()
        let key = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-key-\(UUID().uuidString.prefix(8))").path
        #expect(try await CLI.run(["transcript", "keygen", "--out", key]).status == 0)
        let drill = CrashHarness.drills[2]
        // run-paused needs a pause: the first attempt has no --auto-approve, so it stops at its approval.
        let arguments = ["drill"] + drill.arguments + ["--runs-dir", harness.runsDirectory, "--sign-key", key] + (point.hasPrefix("run-paused") ? [] : ["--auto-approve"])
        #expect(try await CrashHarness.spawn(arguments, environment: ["DRCTL_FAILPOINT": point]) == .killed)
        let resumed = try await harness.resume(["--auto-approve", "--sign-key", key])
        #expect(resumed.status == 0, "\(point): \(resumed.stdout)\(resumed.stderr)")
        let verify = try await CLI.run(["transcript", "verify", harness.runID!, "--runs-dir", harness.runsDirectory, "--public-key", key + ".pub"])
        #expect(verify.status == 0 && verify.stdout.contains("signatures hold"), "\(point): \(verify.stdout)")
    }
}
