import Foundation
import Testing

/// A run survives its console: `| head`, quitting `less`, a dropped SSH session to the jump host.
/// Each test loses the console partway and checks the run went on to its end, on record.
@Suite("a lost console never stops a run", .serialized)
struct LostConsoleTests {
    static let drill = ["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml", "--param", "failed_host=esxi-01"]

    func temporaryRuns() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("drctl-console-\(UUID().uuidString)").path
    }

    /// The run went to its end: its drill verdict is the journal's last line, and the loss is on record.
    func expectFinishedOnRecord(_ runs: String, lost reason: String) {
        let journal = CrashHarness.journalText(in: runs)
        let lines = journal.split(separator: "\n")
        #expect(lines.last?.contains("\"type\":\"drill-verdict\"") == true, "the journal ends with the drill's verdict:\n\(journal.suffix(600))")
        #expect(lines.contains { $0.contains("\"type\":\"console-lost\"") && $0.contains(reason) }, "the loss is journaled")
        #expect(journal.contains("\"type\":\"run-ended\""))
    }

    @Test("a pipe whose reader goes away after one line (| head -1): the run goes on to its end, exit as usual")
    func pipeReaderGoes() async throws {
        let runs = temporaryRuns()
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let status = try await Task.detached { () throws -> Int32 in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = Self.drill + ["--auto-approve", "--runs-dir", runs]
            process.currentDirectoryURL = CLI.root
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // One line read, then the reader is gone, as with `| head -1`.
            var byte: UInt8 = 0
            while Foundation.read(output.fileHandleForReading.fileDescriptor, &byte, 1) == 1, byte != 0x0A {}
            try output.fileHandleForReading.close()
            process.waitUntilExit()
            #expect(process.terminationReason == .exit, "not killed by SIGPIPE")
            return process.terminationStatus
        }.value
        #expect(status == 0, "the drill passes as it does with a reader")
        expectFinishedOnRecord(runs, lost: "standard output's reader went away")
    }

    @Test("a terminal closed at an approval prompt: nobody decided, so the run stops there (exit 130), resumable, the loss on record")
    func terminalCloses() async throws {
        let runs = temporaryRuns()
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let terminal = try PseudoTerminal.spawn(CLI.binary, Self.drill + ["--runs-dir", runs])
        _ = try await terminal.read(until: "Approve? y = yes")
        Foundation.close(terminal.master)
        #expect(await terminal.waitForExit() == 130, "the end of input at a question decides nothing")
        let journal = CrashHarness.journalText(in: runs)
        #expect(journal.contains("\"type\":\"console-lost\""), "the loss is journaled")
        #expect(journal.contains("\"type\":\"run-paused\""))
        #expect(!journal.contains("\"type\":\"approval-given\"") && !journal.contains("\"type\":\"approval-denied\""), "nobody decided")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first { $0 != "leases" })
        let resumed = try await CLI.run(["resume", run, "--runs-dir", runs, "--auto-approve"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    }

    @Test("SIGHUP at an approval prompt: the console is marked lost, the prompt still takes its answer, the run ends as usual")
    func hangupSignal() async throws {
        let runs = temporaryRuns()
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let terminal = try PseudoTerminal.spawn(CLI.binary, Self.drill + ["--runs-dir", runs])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        kill(terminal.process.processIdentifier, SIGHUP)
        _ = try await terminal.read(until: "the terminal hung up (SIGHUP); the run goes on")
        try terminal.write("y\n")
        try terminal.write("\n")  // the optional reason
        try terminal.write("y\n")  // the restore of scratch-01 is done
        try terminal.write("restored from last night's backup\n")
        #expect(await terminal.waitForExit() == 0)
        expectFinishedOnRecord(runs, lost: "the terminal hung up (SIGHUP)")
    }
}
