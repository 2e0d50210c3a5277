import Foundation
import Testing

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
