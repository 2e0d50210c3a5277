import DrctlCore
import Engine
import Foundation
@testable import Journal
import Testing

@Suite("journal")
struct JournalWriterTests {
    func directory() throws -> RunDirectory {
        try RunDirectory.create(id: "test-\(UUID().uuidString.prefix(8))", in: FileManager.default.temporaryDirectory.appendingPathComponent("drctl-journal-tests").path)
    }

    func entries(_ directory: RunDirectory) throws -> [[String: Any]] {
        try String(contentsOf: directory.journal, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test("every event is one numbered JSON line; a change's line, and every line before it, is on disk before the change may go")
    func linesOnDisk() async throws {
        let run = try directory()
        let journal = try JournalWriter(directory: run)
        await journal.record(.runStarted(runbook: "r", dryRun: false, params: ["host": "esxi-01"]))
        await journal.record(.connection(host: "esxi-01", detail: "host key SHA256:abc, known_hosts"))
        await journal.record(.commandSent(step: "power", item: .single, host: "esxi-01", command: "vim-cmd vmsvc/power.on 12", mutates: true))
        // Read back before closing: the change's line and those before it are already there.
        let lines = try entries(run)
        try #require(lines.count == 3, "\(lines.count) lines on disk")
        #expect(lines.map { $0["seq"] as? Int } == [1, 2, 3])
        #expect(lines[0]["type"] as? String == "run-started" && (lines[0]["params"] as? [String: Any])?["host"] as? String == "esxi-01")
        #expect(lines[1]["type"] as? String == "connection")
        #expect(lines[2]["type"] as? String == "command-sent" && lines[2]["mutates"] as? Bool == true)
        // A read does not wait for the disk; its line follows with the next flush, and close waits for it.
        await journal.record(.commandSent(step: "state", item: .single, host: "esxi-01", command: "vim-cmd vmsvc/power.getstate 12", mutates: false))
        await journal.close()
        #expect(try entries(run).map { $0["seq"] as? Int } == [1, 2, 3, 4])
    }

    @Test("output beyond the cap is kept in full in outputs/, and the entry points at it")
    func largeOutput() async throws {
        let run = try directory()
        let journal = try JournalWriter(directory: run, inlineLimit: 1024)
        let big = String(repeating: "x", count: 1_000_000)
        await journal.record(.commandFinished(step: "dump", item: .single, host: "esxi-01", command: "cat big",
                                              result: CommandResult(stdout: big, stderr: "small")))
        await journal.close()
        let entry = try #require(try entries(run).first)
        #expect(entry["stderr"] as? String == "small")
        #expect(entry["stdout"] == nil && entry["stdout_bytes"] as? Int == 1_000_000)
        let file = try #require(entry["stdout_file"] as? String)
        #expect(try String(contentsOf: run.url.appendingPathComponent(file), encoding: .utf8) == big)
        #expect((entry["stdout_head"] as? String)?.count == 512)
    }

    @Test("a run directory is never reused")
    func neverReused() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-journal-tests").path
        let run = try RunDirectory.create(id: "same-\(UUID().uuidString.prefix(8))", in: parent)
        #expect(throws: RunDirectory.Problem.self) { try RunDirectory.create(id: run.id, in: parent) }
    }
}

@Suite("hash chain")
struct JournalChainTests {
    func journal() async throws -> (RunDirectory, Data) {
        let run = try RunDirectory.create(id: "chain-\(UUID().uuidString.prefix(8))", in: FileManager.default.temporaryDirectory.appendingPathComponent("drctl-journal-tests").path)
        let writer = try JournalWriter(directory: run, header: RunHeader(runbookFile: "r.yaml", runbookSource: "runbook: r\n", inventoryFile: nil, inventorySource: nil, hosts: [], steps: [], rto: nil, drill: nil))
        await writer.record(.runStarted(runbook: "r", dryRun: false, params: [:]))
        for index in 0..<5 { await writer.record(.connection(host: "esxi-0\(index)", detail: "connected")) }
        await writer.close()
        return (run, try Data(contentsOf: run.journal))
    }

    @Test("an untouched journal verifies; the run-started entry names the runbook's hash")
    func intact() async throws {
        let (_, data) = try await journal()
        #expect(JournalChain.verify(data) == JournalChain.Verdict(intact: 6, broken: nil, tornLastLine: false))
        let first = try #require(try JSONSerialization.jsonObject(with: data.split(separator: 0x0A)[0]) as? [String: Any])
        #expect(first["runbook_sha256"] as? String == JournalChain.sha256(Data("runbook: r\n".utf8)))
    }

    @Test("an edited line is caught, naming the first broken event")
    func edited() async throws {
        let (_, data) = try await journal()
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "esxi-02", with: "esxi-99")
        let verdict = JournalChain.verify(Data(text.utf8))
        #expect(verdict.broken?.line == 5 && verdict.intact == 4)
    }

    @Test("a removed line is caught")
    func removed() async throws {
        let (_, data) = try await journal()
        var lines = data.split(separator: 0x0A).map { Data($0) }
        lines.remove(at: 2)
        let verdict = JournalChain.verify(Data(lines.joined(separator: [0x0A]) + [0x0A]))
        #expect(verdict.broken?.line == 3)
    }

    @Test("a torn last line is tolerated and reported")
    func torn() async throws {
        let (_, data) = try await journal()
        let verdict = JournalChain.verify(data + Data("{\"seq\":7,\"ty".utf8))
        #expect(verdict.broken == nil && verdict.tornLastLine && verdict.intact == 6)
    }
}

@Suite("redaction")
struct RedactionTests {
    @Test("secret values and declared patterns never reach the run directory, not even in large outputs")
    func redacted() async throws {
        let run = try RunDirectory.create(id: "redact-\(UUID().uuidString.prefix(8))", in: FileManager.default.temporaryDirectory.appendingPathComponent("drctl-journal-tests").path)
        let redactor = Redactor(patterns: [#"token=\w+"#])
        redactor.register("Hunter2-secret")
        let journal = try JournalWriter(directory: run, redactor: redactor, inlineLimit: 256)
        await journal.record(.commandSent(step: "s", item: .single, host: "h", command: "login -p Hunter2-secret", mutates: false))
        await journal.record(.commandFinished(step: "s", item: .single, host: "h", command: "dump",
                                              result: CommandResult(stdout: String(repeating: "a", count: 1000) + " token=abc123 Hunter2-secret\n",
                                                                    stderr: "token=zzz")))
        await journal.record(.connection(host: "h", detail: "auth with Hunter2-secret failed"))
        await journal.close()
        let everything = try FileManager.default.subpathsOfDirectory(atPath: run.url.path).compactMap { path in
            try? String(contentsOf: run.url.appendingPathComponent(path), encoding: .utf8)
        }.joined()
        #expect(!everything.contains("Hunter2-secret") && !everything.contains("abc123") && !everything.contains("zzz"))
        #expect(everything.contains(Redactor.mask))
    }
}
