import Foundation
import Testing

/// What a drill leaves for the auditor: its own verdict in the journal, the table of host
/// changes, and a trend that compares drills against the same scenario, stopped ones marked.
@Suite("drill record")
struct DrillRecordTests {
    @Test("a drill journals its verdict with the scenario's checks and the faults it injected; the report shows them, every host change and a per-scenario trend")
    func verdictChangesAndTrend() async throws {
        let harness = CrashHarness()
        let hostFailure = CrashHarness.drills[0]
        var known = Set<String>()
        // The run each drill made: the one directory that was not there before.
        func newRun() throws -> String {
            let now = Set(try FileManager.default.contentsOfDirectory(atPath: harness.runsDirectory).filter { $0.first?.isNumber == true })
            defer { known = now }
            return try #require(now.subtracting(known).first)
        }
        #expect(try await harness.start(hostFailure) == .exited(0))
        let passed = try newRun()
        #expect(try await harness.start(hostFailure, failpoint: "host-change:2") == .killed)
        let stopped = try newRun()
        let otherScenario = CrashHarness.Drill(name: "power-on-fails", arguments: ["Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure-power-on-fails.yaml",
                                                                                  "--param", "failed_host=esxi-01"])
        #expect(try await harness.start(otherScenario) == .exited(0))
        let elsewhere = try newRun()
        #expect(try await harness.start(hostFailure) == .exited(0))
        let latest = try newRun()

        // The verdict is the journal's last line, chained like the rest.
        let journal = try String(contentsOfFile: "\(harness.runsDirectory)/\(latest)/journal.jsonl", encoding: .utf8)
        let lastLine = try #require(journal.split(separator: "\n").last)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any])
        #expect(last["type"] as? String == "drill-verdict")
        #expect(last["verdict"] as? String == "passed")
        let checks = try #require(last["checks"] as? [[String: Any]])
        #expect(checks.count == 6 && checks.allSatisfy { $0["passed"] as? Bool == true })
        #expect((try await CLI.run(["transcript", "verify", latest, "--runs-dir", harness.runsDirectory])).status == 0)
        let faulty = try String(contentsOfFile: "\(harness.runsDirectory)/\(elsewhere)/journal.jsonl", encoding: .utf8)
        let faultyVerdict = try #require(faulty.split(separator: "\n").last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(faultyVerdict["type"] as? String == "drill-verdict")
        #expect(!((faultyVerdict["faults"] as? [String]) ?? []).isEmpty, "the faults injected are recorded: \(faultyVerdict)")

        let report = try await CLI.run(["report", latest, "--runs-dir", harness.runsDirectory])
        let text = report.stdout
        #expect(report.status == 0, "\(report.stderr)")
        #expect(text.contains("## Drill verdict\n\n**DRILL PASSED: 6 of 6 checks hold. Run handed off, as expected.**"), "\(text)")
        #expect(text.contains("| ✓ | vm db-01 powered on, on esxi-02 or esxi-03, registered exactly once | powered on, on esxi-0"))
        #expect(text.contains("Faults injected: latency 2ms + up to 3ms"), "the scenario's standing faults count")
        // Every change, when, where, by whom, how it ended; the reads around them are not changes.
        #expect(text.contains("## Commands that changed hosts"))
        let changes = text.components(separatedBy: "## Commands that changed hosts")[1].components(separatedBy: "## Timeline")[0]
        #expect(changes.contains("| esxi-0") && changes.contains("| register [app-01] | `vim-cmd solo/registervm /vmfs/volumes/ds-shared-01/app-01/app-01.vmx` | root"),
                "\(changes)")
        #expect(changes.contains("| exit 0 |"))
        #expect(!changes.contains("power.getstate") && !changes.contains("getallvms"), "\(changes)")
        // The trend: this scenario's drills only, the killed one marked stopped.
        let trend = text.components(separatedBy: "## RTO trend (drills of host-failure against host-failure)")[1]
        #expect(trend.contains("| \(passed) |") && trend.contains("| passed |"))
        #expect(trend.contains("| \(stopped) |") && trend.contains("| stopped |"), "\(trend)")
        #expect(!trend.contains(elsewhere), "a drill against another scenario is not compared")
        // The killed drill's report: the change it sent when it was killed has no result.
        let killed = try await CLI.run(["report", stopped, "--runs-dir", harness.runsDirectory]).stdout
        #expect(killed.contains("no result: in flight when the run stopped"), "\(killed)")
        #expect(killed.contains("Head: sha256"), "the head to store, with the advice")
    }
}
