import Foundation
import Testing

/// No change without its line on disk: a write of the run's record that fails (a full disk, an I/O
/// error) stops the run before its next host change, exit 6, naming the path and the error; once
/// the space is back, `drctl resume` finishes the recovery without repeating a change.
@Suite("the record cannot be written")
struct WriteFailureTests {
    /// The journal's writes a drill makes: `make test` fails one write at each of these points,
    /// close together at first and ever further apart; `make crash-test` every one
    /// (DRCTL_WRITE_POINTS=all). How many writes a drill makes depends on timing (lines that arrive
    /// during a flush share the next one), but never fewer than its changes (16 here), each of
    /// which waits for its line: the first points always fall inside the drill.
    static let points = ProcessInfo.processInfo.environment["DRCTL_WRITE_POINTS"] == "all"
        ? Array(1...400) : [1, 2, 3, 5, 8, 12, 17, 23, 30, 40, 55, 75, 100, 140, 200, 400]
    static let drill = CrashHarness.drills[0]

    @Test("ENOSPC at write points through a drill: exit 6, no host change after it, resumable; EIO too")
    func writePoints() async throws {
        let reference = try await CrashHarness.reference(Self.drill)
        // EIO first: the ENOSPC points end once one falls past the drill's last write.
        let points = [(3, "EIO")] + Self.points.map { ($0, "ENOSPC") }
        var passedTheEnd = false
        var failed = 0
        for (point, error) in points where !passedTheEnd {
            let harness = CrashHarness()
            let spec = "write-error:\(point)" + (error == "EIO" ? ":EIO" : "")
            let ending = try await harness.start(Self.drill, failpoint: spec)
            if ending == .exited(0) {
                passedTheEnd = true  // the drill has fewer writes than this: every point was covered
                continue
            }
            failed += 1
            #expect(ending == .exited(6), "\(spec): \(ending)")
            #expect(Self.changesWithoutTheirLine(harness).isEmpty, "\(spec): changes made without their journal line: \(Self.changesWithoutTheirLine(harness))")
            let resumed = try await harness.resume()
            if !harness.journalTypes.contains("run-started") {
                // Not even the run's first line reached the disk: nothing reached a host either.
                #expect(resumed.status == 2 && resumed.stderr.contains("start it again"), "\(spec): \(resumed.stderr)")
                #expect(harness.changeLog.isEmpty)
                continue
            }
            #expect(resumed.status == 0, "\(spec): the run resumes once the disk is fine: \(resumed.stdout)\(resumed.stderr)")
            #expect(resumed.stdout.contains("DRILL PASSED"), "\(spec)")
            #expect(CrashHarness.repeated(harness.changeLog, reference: reference).isEmpty, "\(spec): \(harness.changeLog)")
            let verify = try await CLI.run(["transcript", "verify", harness.runID!, "--runs-dir", harness.runsDirectory])
            #expect(verify.status == 0, "a torn line from a failed write is repaired, not reported as tampering: \(verify.stdout)")
        }
        #expect(failed >= 5)
        #expect(passedTheEnd, "the points went past the drill's last write")
    }

    @Test("a full disk at each line of a run's ending: never succeeded, never exit 0, and the head printed is a line of the journal")
    func ending() async throws {
        let drill = CrashHarness.drills[1]  // datastore-failure: succeeds when nothing fails
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-ending-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let reference = try await CLI.run(["drill"] + drill.arguments + ["--auto-approve", "--runs-dir", runs + "/reference"])
        #expect(reference.status == 0 && reference.stdout.contains("Run: succeeded"))
        let lines = CrashHarness.journalText(in: runs + "/reference").split(separator: "\n")
        let ended = try #require(lines.lastIndex { $0.contains("\"type\":\"run-ended\"") })
        // The goal's reads, the run's end and the drill's verdict: every line from the goal's first read on.
        let firstRead = try #require(lines[..<ended].firstIndex { $0.contains("\"step\":\"end-mounts\"") })
        #expect(lines.count - firstRead >= 8, "the goal's reads, the run's end and the verdict")
        for line in (firstRead + 1)...lines.count {
            let directory = runs + "/line-\(line)"
            let result = try await CLI.run(["drill"] + drill.arguments + ["--auto-approve", "--runs-dir", directory],
                                           environment: ["DRCTL_FAILPOINT": "write-error-line:\(line)"])
            #expect(result.status == 6, "line \(line): \(result.stdout)\(result.stderr)")
            #expect(!result.stdout.contains("Run: succeeded") && !result.stdout.contains("DRILL PASSED"), "line \(line)")
            #expect(result.stderr.contains("No space left on device"), "line \(line): drctl's own words: \(result.stderr)")
            let head = try #require(result.stdout.firstMatch(of: /Journal head: sha256 ([0-9a-f]{64})/)?.1, "line \(line)")
            let run = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0 != "leases" })
            let verify = try await CLI.run(["transcript", "verify", run, "--runs-dir", directory, "--expect", String(head)])
            #expect(verify.status == 0, "line \(line): the printed head verifies: \(verify.stdout)\(verify.stderr)")
            let headLine = verify.stdout.firstMatch(of: /the expected head is line (\d+):/).flatMap { Int($0.1) }
            #expect(headLine.map { $0 < line } == true, "line \(line): the head is a whole line before the failure: \(verify.stdout)")
        }
    }

    @Test("a tiny full tmpfs: the run stops with exit 6, says where and why, and never claims success",
          .enabled(if: getuid() == 0, "mounting a tmpfs needs root (CI is root)"))
    func fullDisk() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-full-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try await CLI.shell("mount -t tmpfs -o size=48k tmpfs \(mountPoint)") == 0)
        defer { _ = try? FileManager.default.removeItem(atPath: mountPoint) }
        let result = try await CLI.run(["drill"] + Self.drill.arguments + ["--auto-approve", "--runs-dir", mountPoint])
        #expect(result.status == 6, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("No space left on device"))
        #expect(result.stderr.contains("\(mountPoint)/"), "the message names the path")
        #expect(!result.stdout.contains("Run: succeeded"))
        #expect(!(result.stdout + result.stderr).contains("NSCocoaErrorDomain"), "every write failure reads as drctl's own message")
        // Space comes back: the run goes on from its journal.
        #expect(try await CLI.shell("mount -o remount,size=4m \(mountPoint)") == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: mountPoint).first)
        let resumed = try await CLI.run(["resume", run, "--runs-dir", mountPoint, "--auto-approve"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        _ = try await CLI.shell("umount \(mountPoint)")
    }

    /// Each change the simulated hosts applied needs a `command-sent` line on disk for it, on that
    /// host: more changes of a kind than such lines means one was made off the record.
    static func changesWithoutTheirLine(_ harness: CrashHarness) -> [String] {
        let verbs = [("registervm", "solo/registervm"), ("power.on", "vmsvc/power.on"), ("power.off", "vmsvc/power.off"),
                     ("unregister", "vmsvc/unregister"), ("answer", "vmsvc/message"), ("rescan", "adapter rescan"),
                     ("snapshot mount", "snapshot mount"), ("service-control", "service-control --start")]
        var sent: [String: Int] = [:]
        for line in harness.journalText.split(separator: "\n") {
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], entry["type"] as? String == "command-sent",
                  let host = entry["host"] as? String, let command = entry["command"] as? String else { continue }
            for (verb, text) in verbs where command.contains(text) { sent["\(host) \(verb)", default: 0] += 1 }
        }
        var made: [String: Int] = [:]
        for change in harness.changeLog {
            guard let colon = change.range(of: ": ") else { continue }
            let host = String(change[..<colon.lowerBound]), rest = change[colon.upperBound...]
            for (verb, _) in verbs where rest.hasPrefix(verb) { made["\(host) \(verb)", default: 0] += 1 }
        }
        return made.filter { $0.value > sent[$0.key, default: 0] }.map { "\($0.key): \($0.value) made, \(sent[$0.key, default: 0]) recorded" }.sorted()
    }
}
