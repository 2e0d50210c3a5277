import Foundation
import Testing

/// Names and outputs from hosts and input files are shown with their control characters made
/// visible on every surface (console, approval prompt, transcript show, reports); the journal
/// keeps the raw bytes.
@Suite("terminal safety")
struct TerminalSafetyTests {
    /// Cursor up and erase line, a bell, an OSC 52 clipboard write, a window title, a C1 CSI and a
    /// right-to-left override: what a hostile VM name would use to rewrite the prompt.
    static let hostileYAML = #"\e[1A\e[2Kevil\a\e]52;c;ZWNobyBwd25lZA==\a\e]0;title\x07\x9b2J\u202Emv\x01\x7f"#

    /// drctl's own sequences on a terminal: colour (SGR) and the status area's cursor-to-line-start
    /// and erase-below. The hostile name uses others (cursor up, erase line, OSC), so a name that
    /// leaked raw would still show.
    static func withoutOwnSequences(_ text: String) -> String {
        text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[FJm]", with: "", options: .regularExpression)
    }

    /// Every scalar that must never reach a terminal raw.
    static func rawControls(in text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x0A, 0x09: return false
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
            default: return false
            }
        }.map { String(format: "U+%04X", $0.value) }
    }

    @Test("a VM named with escape sequences: the approval prompt under a pty, the drill's console, transcript show and both reports show escapes; the journal keeps the bytes")
    func everySurface() async throws {
        let scenarioText = try String(contentsOfFile: CLI.root.appendingPathComponent("Simulator/host-failure.yaml").path, encoding: .utf8)
            .replacingOccurrences(of: "vms:\n", with: "vms:\n  - { name: \"\(Self.hostileYAML)\", datastore: ds-shared-01, host: esxi-01, power: on, memory_mb: 1024, priority: 1 }\n")
        let scenario = try CLI.temporaryFile("hostile.yaml", scenarioText)
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-terminal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }

        let terminal = try PseudoTerminal.spawn(CLI.binary, ["drill", "Runbooks/host-failure.yaml", "--scenario", scenario, "--param", "failed_host=esxi-01",
                                                             "--runs-dir", runs])
        let prompt = try await terminal.read(until: "Approve? y = yes")
        #expect(prompt.contains(#"\e[1A\e[2Kevil\x07\e]52;c;ZWNobyBwd25lZA==\x07"#), "the name is shown, escaped: \(prompt.suffix(2_000))")
        #expect(Self.rawControls(in: Self.withoutOwnSequences(prompt)).filter { $0 != "U+000D" }.isEmpty, "raw controls in the prompt: \(Self.rawControls(in: prompt))")
        try terminal.write("y\n")
        _ = try await terminal.read(until: "recorded with your approval")
        try terminal.write("\n")
        // The runbook then asks for the restore of scratch-01 (local disk): confirmed as done too.
        var rest = try await terminal.read(until: "Done? y = yes")
        try terminal.write("y\n")
        rest += try await terminal.read(until: "What was done (optional, recorded)")
        try terminal.write("\n")
        rest += try await terminal.read(until: "DRILL ")
        // The pty turns "\n" into "\r\n": carriage returns are the terminal's, not the name's.
        #expect(Self.rawControls(in: Self.withoutOwnSequences(rest)).filter { $0 != "U+000D" }.isEmpty, "raw controls on the console: \(Self.rawControls(in: rest))")
        #expect(rest.contains(#"\u{9b}2J\u{202e}mv\x01\x7f"#))

        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first { !$0.hasPrefix(".") && !$0.hasSuffix(".lock") })
        let journal = try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8)
        #expect(journal.contains(#"\u001b[1A\u001b[2Kevil"#), "the journal keeps the raw name (JSON-escaped)")
        for arguments in [["transcript", "show", run], ["report", run], ["report", run, "--format", "html"]] {
            let result = try await CLI.run(arguments + ["--runs-dir", runs])
            #expect(Self.rawControls(in: result.stdout + result.stderr).isEmpty, "\(arguments): \(Self.rawControls(in: result.stdout))")
            #expect(result.stdout.contains(#"\e[1A\e[2Kevil"#), "\(arguments) shows the name escaped")
        }
    }
}
