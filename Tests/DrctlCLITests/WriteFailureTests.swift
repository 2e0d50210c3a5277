import Foundation
import Testing

/// No change without its line on disk: a write of the run's record that fails (a full disk, an I/O
/// error) stops the run before its next host change, exit 6, naming the path and the error; once
/// the space is back, `drctl resume` finishes the recovery without repeating a change.
@Suite("the record cannot be written")
struct WriteFailureTests {
    /// `make test` fails every 9th write of a drill; `make crash-test` every one
    /// (DRCTL_WRITE_POINTS=all).
    static let stride = ProcessInfo.processInfo.environment["DRCTL_WRITE_POINTS"] == "all" ? 1 : 9
    static let drill = CrashHarness.drills[0]

    @Test("ENOSPC at write points through a drill: exit 6, no host change after it, resumable; EIO too")
    func writePoints() async throws {
        let reference = try await CrashHarness.reference(Self.drill)
        var points = Array(Swift.stride(from: 1, through: 200, by: Self.stride)).map { ($0, "ENOSPC") }
        points.append((17, "EIO"))
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


@Suite("the run's files")
struct RunFileTests {
    @Test("a run directory is 0700, its journal and outputs 0600")
    func permissions() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-perm-\(UUID().uuidString.prefix(8))").path
        let result = try await CLI.run(["drill"] + CrashHarness.drills[2].arguments + ["--auto-approve", "--runs-dir", runs])
        #expect(result.status == 0, "\(result.stdout)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        func mode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: "\(runs)/\(path)")[.posixPermissions] as? Int) ?? -1 }
        #expect(try mode(run) == 0o700)
        #expect(try mode("\(run)/outputs") == 0o700)
        #expect(try mode("\(run)/journal.jsonl") == 0o600)
    }
}

@Suite("one run per host at a time")
struct LeaseTests {
    @Test("a second run on leased hosts refuses, naming the first; abandon releases them; --ignore-leases is recorded; dry-runs and drills take none")
    func leases() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-lease-\(UUID().uuidString.prefix(8))").path
        let runbook = try CLI.temporaryFile("gate.yaml", "runbook: gate\nsteps:\n  - { id: ok, approval: \"Go?\" }\n")
        let inventory = try CLI.temporaryFile("site.yaml", """
        hosts:
          - { name: esxi-01, address: 127.0.0.1, port: 1, auth: prompt }
          - { name: esxi-02, address: 127.0.0.1, port: 1, auth: prompt }
        """)
        let run = ["run", runbook, "--inventory", inventory, "--runs-dir", runs]
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

@Suite("a forger with write access")
struct ForgeryTests {
    /// Rewrites one fact and re-chains every line after it, as a forger with write access could.
    static func rechain(_ journal: String, replacing old: String, with new: String) -> String {
        var previous = String(repeating: "0", count: 64)
        var lines: [String] = []
        for line in journal.split(separator: "\n").map(String.init) {
            var text = line.replacingOccurrences(of: old, with: new)
            if let range = text.range(of: #""prev":"[0-9a-f]{64}""#, options: .regularExpression) { text.replaceSubrange(range, with: "\"prev\":\"\(previous)\"") }
            previous = sha256Hex(text)
            lines.append(text)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func sha256Hex(_ text: String) -> String {
        let pipe = Pipe(), input = Pipe(), process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.standardInput = input
        process.standardOutput = pipe
        try? process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: output, as: UTF8.self).prefix(64))
    }

    @Test("a re-chained forgery passes the chain check alone, and is caught with the head stored elsewhere (--expect)")
    func rechained() async throws {
        let harness = CrashHarness()
        let drill = try await CLI.run(["drill"] + CrashHarness.drills[2].arguments + ["--auto-approve", "--runs-dir", harness.runsDirectory])
        let head = try #require(drill.stdout.components(separatedBy: "Journal head: sha256 ").dropFirst().first?.prefix(64)).description
        let run = try #require(harness.runID)
        let verify = ["transcript", "verify", run, "--runs-dir", harness.runsDirectory]
        let honest = try await CLI.run(verify + ["--expect", head])
        #expect(honest.status == 0, "\(honest.stdout)")
        #expect(honest.stdout.contains("every line up to it is as it was"))

        let path = "\(harness.runsDirectory)/\(run)/journal.jsonl"
        let forged = Self.rechain(try String(contentsOfFile: path, encoding: .utf8), replacing: "\"by\":\"root\"", with: "\"by\":\"mallory\"")
        try forged.write(toFile: path, atomically: true, encoding: .utf8)
        let alone = try await CLI.run(verify)
        #expect(alone.status == 0 && alone.stdout.contains("could rewrite and re-chain them all"), "without an anchor the chain agrees with itself: \(alone.stdout)")
        let anchored = try await CLI.run(verify + ["--expect", head])
        #expect(anchored.status == 1)
        #expect(anchored.stdout.contains("is NOT in this journal"))
    }
}

@Suite("signed checkpoints")
struct SigningTests {
    @Test("checkpoints signed with --sign-key verify with the public key; a re-chained forgery or another key does not")
    func signatures() async throws {
        let harness = CrashHarness()
        let key = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-key-\(UUID().uuidString.prefix(8))").path
        #expect(try await CLI.run(["transcript", "keygen", "--out", key]).status == 0)
        #expect(try await CLI.run(["drill"] + CrashHarness.drills[2].arguments + ["--auto-approve", "--runs-dir", harness.runsDirectory, "--sign-key", key]).status == 0)
        let run = try #require(harness.runID)
        let verify = ["transcript", "verify", run, "--runs-dir", harness.runsDirectory, "--public-key", key + ".pub"]
        let good = try await CLI.run(verify)
        #expect(good.status == 0 && good.stdout.contains("signatures hold"), "\(good.stdout)")
        let path = "\(harness.runsDirectory)/\(run)/journal.jsonl"
        try ForgeryTests.rechain(try String(contentsOfFile: path, encoding: .utf8), replacing: "\"by\":\"root\"", with: "\"by\":\"mallory\"")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let forged = try await CLI.run(verify)
        #expect(forged.status == 1)
        #expect(forged.stdout.contains("SIGNATURE: this checkpoint's signature does not hold"), "\(forged.stdout)")
        let wrongKey = try await CLI.run(["transcript", "verify", run, "--runs-dir", harness.runsDirectory, "--public-key", "/etc/hostname"])
        #expect(wrongKey.status == 2)
    }
}

/// Kills where the leases are taken and where a signed checkpoint is written (run by
/// `make crash-test` too).
@Suite("kills during leases and signing")
struct LeaseAndSigningCrashTests {
    @Test("killed while taking its leases: the run never began, and the next run is not locked out")
    func killedTakingLeases() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-lease-kill-\(UUID().uuidString.prefix(8))").path
        let runbook = try CLI.temporaryFile("gate.yaml", "runbook: gate\nsteps:\n  - { id: ok, approval: \"Go?\" }\n")
        let inventory = try CLI.temporaryFile("site.yaml", """
        hosts:
          - { name: esxi-01, address: 127.0.0.1, port: 1, auth: prompt }
          - { name: esxi-02, address: 127.0.0.1, port: 1, auth: prompt }
        """)
        let run = ["run", runbook, "--inventory", inventory, "--runs-dir", runs]
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
