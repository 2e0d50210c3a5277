import Foundation
import Testing

/// Drills run in virtual time: a wait of minutes passes as soon as everything waits on it, and
/// the record says which times are virtual.
@Suite("drills in virtual time")
struct VirtualTimeDrillTests {
    static let neverReturns = ["drill", "Runbooks/datastore-failure.yaml", "--scenario", "Simulator/datastore-never-returns.yaml",
                               "--param", "datastore=ds-gold", "--param", "return_timeout=15m", "--auto-approve"]

    static func entries(_ runs: String) throws -> [[String: Any]] {
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.first?.isNumber == true })
        return try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func date(_ text: Any?) -> Date? {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (text as? String).flatMap(parser.date(from:))
    }

    @Test("a LUN that never returns: the 15-minute wait is reported as 15 minutes, and the journal keeps virtual and wall time apart")
    func lunNeverReturns() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-virtual-\(UUID().uuidString.prefix(6))").path
        let result = try await CLI.run(Self.neverReturns + ["--runs-dir", runs])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("in virtual time"))
        // Each check is a rescan of two adapters (8 s each) and a filesystem list, then 5 s of interval.
        #expect(result.stdout.contains("did not hold within 15m00s (38 checks)"), "\(result.stdout.suffix(3000))")
        let took = try #require(result.stdout.firstMatch(of: /recovery took (\d+)m(\d+)s against a target of 45m00s/), "\(result.stdout.suffix(1500))")
        #expect(Int(took.1)! * 60 + Int(took.2)! >= 15 * 60, "the 15-minute wait, plus what ESXi takes over the rest")
        #expect(result.stdout.contains("(virtual time: what it would take on these hosts)"))
        let entries = try Self.entries(runs)
        #expect(entries.first?["clock"] as? String == "virtual")
        #expect(entries.allSatisfy { $0["wall_time"] is String })
        let virtualSpan = try #require(Self.date(entries.last?["time"])).timeIntervalSince(try #require(Self.date(entries.first?["time"])))
        let wallSpan = try #require(Self.date(entries.last?["wall_time"])).timeIntervalSince(try #require(Self.date(entries.first?["wall_time"])))
        #expect(virtualSpan >= 900, "\(virtualSpan)")
        #expect(wallSpan < virtualSpan / 2, "the wait was not sat through: \(wallSpan)s of wall time")
        let times = entries.compactMap { Self.date($0["time"]) }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "virtual time never goes back")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.first?.isNumber == true })
        let report = try await CLI.run(["report", run, "--runs-dir", runs]).stdout
        #expect(report.contains("- **Clock**: virtual"), "\(report.prefix(1200))")
        #expect(report.contains("RTO achieved: \(took.1)m"), "the report's times are the drill's")
        let transcript = try await CLI.run(["transcript", "show", run, "--runs-dir", runs]).stdout
        #expect(transcript.contains("A drill in virtual time"))
    }

    @Test("a drill killed in virtual time resumes in virtual time, its clock going on from where the record ends")
    func resumeGoesOn() async throws {
        let harness = CrashHarness()
        let drill = CrashHarness.Drill(name: "never-returns", arguments: Array(Self.neverReturns.dropFirst()))
        #expect(try await harness.start(drill, failpoint: "wait-checked:20") == .killed)
        let before = try Self.entries(harness.runsDirectory)
        let resumed = try await harness.resume()
        #expect(resumed.status == 0, "\(resumed.stdout)")
        let after = try Self.entries(harness.runsDirectory)
        let resumedLine = try #require(after.first { $0["type"] as? String == "run-resumed" })
        #expect(resumedLine["clock"] as? String == "virtual")
        let lastBefore = try #require(before.compactMap { Self.date($0["time"]) }.last)
        #expect(try #require(Self.date(resumedLine["time"])) >= lastBefore)
        let times = after.compactMap { Self.date($0["time"]) }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "virtual time never goes back, across the resume")
    }
}
