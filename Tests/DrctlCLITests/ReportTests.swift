import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `drctl report`: what a reviewer or auditor reads, built from the journal alone.
@Suite("drctl report")
struct ReportTests {
    static let hostFailure = CrashHarness.drills[0]

    func report(_ harness: CrashHarness, _ run: String? = nil, format: String = "md") async throws -> CLI.Result {
        try await CLI.run(["report", run ?? harness.runID!, "--runs-dir", harness.runsDirectory, "--format", format])
    }

    @Test("a drill killed and resumed: summary, both attempts, approvals, recovery per VM, RTO, timeline, chain verdict")
    func resumedDrill() async throws {
        let harness = CrashHarness()
        #expect(try await harness.start(Self.hostFailure, failpoint: "host-change:3") == .killed)
        #expect(try await harness.resume().status == 0)
        let result = try await report(harness)
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout
        for expected in ["# Run report: host-failure", "- **Outcome**: handed off", "- **Goal**: 5 of 6 hold; handed off: scratch-01", "- **Started by**:", "killed before it ended", "- **Resumed by**:",
                         "| failed_host | esxi-01 |", "| approve-recovery | approved |", "--auto-approve (drill)",
                         "| db-01 | esxi-03 |", "(until the last VM was powered on) against a target of 30m00s: NOT MET: the run ended handed off, and only a run that succeeded meets an RTO.",
                         "Not running from +", "| esxi-02 | register |", "Hash chain intact over", "## Failures\n\n(none)"] {
            #expect(text.contains(expected), "missing \(expected) in:\n\(text)")
        }
    }

    @Test("a partial drill shows the failure with the output that explains it")
    func failures() async throws {
        let harness = CrashHarness()
        let drill = CrashHarness.Drill(name: "power-on-fails", arguments: ["Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure-power-on-fails.yaml",
                                                                          "--param", "failed_host=esxi-01"])
        #expect(try await harness.start(drill) == .exited(0), "the scenario expects a partial run")
        let text = try await report(harness).stdout
        #expect(text.contains("### power-on [app-01] on esxi-0"), "\(text)")
        #expect(text.contains("GenericVmConfigFault"))
        #expect(text.contains("- **Outcome**: partial"))
        #expect(text.contains("not recovered: app-01, web; reboot"))
    }

    @Test("HTML: one self-contained page, its Gantt chart and trend chart are well-formed SVG, earlier drills make the trend")
    func html() async throws {
        let harness = CrashHarness()
        #expect(try await harness.start(Self.hostFailure) == .exited(0))
        let first = harness.runID!
        try await Task.sleep(for: .seconds(1))  // run ids are per second
        #expect(try await harness.start(Self.hostFailure) == .exited(0))
        let runs = try FileManager.default.contentsOfDirectory(atPath: harness.runsDirectory).sorted()
        #expect(runs.count == 2)
        let output = harness.runsDirectory + "/report.html"
        let written = try await CLI.run(["report", runs[1], "--runs-dir", harness.runsDirectory, "--format", "html", "-o", output])
        #expect(written.status == 0, "\(written.stderr)")
        let html = try String(contentsOfFile: output, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"), "no scripts")
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") }, "no external resources")
        #expect(html.contains("RTO trend"))
        #expect(html.contains(first) && html.contains("\(runs[1]) (this one)"))
        let svgs = html.components(separatedBy: "<svg").dropFirst().map { "<svg" + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        #expect(svgs.count == 2, "a Gantt chart and a trend chart")
        for svg in svgs {
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        }
        #expect(svgs[0].contains("power-on [db-01]"))
    }

    @Test("an edited journal is reported as broken; an unknown run exits 2")
    func brokenChain() async throws {
        let harness = CrashHarness()
        #expect(try await harness.start(Self.hostFailure) == .exited(0))
        let path = "\(harness.runsDirectory)/\(harness.runID!)/journal.jsonl"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"by\":\"", with: "\"by\":\"mallory-").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await report(harness).stdout.contains("BROKEN at journal line"))
        let unknown = try await report(harness, "no-such-run")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no run no-such-run"))
    }
}

@Suite("transcript times")
struct TranscriptTimeTests {
    @Test("transcript show gives each line its UTC clock time and its offset from the start")
    func absoluteTimes() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-times-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let drill = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml", "--param", "failed_host=esxi-01",
                                       "--auto-approve", "--runs-dir", runs])
        #expect(drill.status == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.first)
        let journal = try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8)
        // The run-started time, as recorded (UTC), is the first line's clock time.
        let recorded = try #require(journal.range(of: #"T\d\d:\d\d:\d\d\.\d\d\d"#, options: .regularExpression).map { String(journal[$0].dropFirst()) })
        let shown = try await CLI.run(["transcript", "show", run, "--runs-dir", runs])
        let lines = shown.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("Times in UTC, from ") == true, "\(shown.stdout.prefix(300))")
        #expect(lines.dropFirst().first?.hasPrefix("\(recorded) +   0.000s  run \(run)") == true, "\(lines.prefix(2))")
        #expect(lines.contains { $0.contains("approval given by") })
    }
}

@Suite("timeline chart")
struct TimelineChartTests {
    @Test("every bar of the HTML report's timeline is labelled (whole in the tooltip), the axis is named and the RTO target shown")
    func labelledBars() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-chart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let drill = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml", "--param", "failed_host=esxi-01",
                                       "--auto-approve", "--runs-dir", runs])
        #expect(drill.status == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.first)
        let html = try await CLI.run(["report", run, "--runs-dir", runs, "--format", "html"]).stdout
        let bars = html.components(separatedBy: "<g><title>").dropFirst()
        #expect(bars.count > 10)
        for bar in bars {
            let group = bar.components(separatedBy: "</g>")[0]
            #expect(group.contains("<rect") && group.contains("<text"), "a bar without a label: \(group.prefix(200))")
        }
        #expect(html.contains("time since the run started"))
        #expect(html.contains("RTO target "))
    }
}
