import DrctlCore
import Foundation
import Testing

@Suite("Shell quoting")
struct ShellQuoteTests {
    /// Values that would break or hijack a command if pasted unquoted.
    static let hostile = ["web; reboot", "$(id)", "`id`", "it's", "say \"hi\"", "line1\nline2", "-rf", "--all", "a b  c",
                          "*", "~root", "x > /tmp/f", "a|b", "a&&b", "", "'", "\\", "$HOME", "tab\there", "ünïcode ✓"]

    @Test("every hostile value reaches a real shell as exactly one literal argument", arguments: hostile)
    func reachesShellLiterally(_ value: String) throws {
        let output = try runShell("printf '%s\\0' \(ShellQuote.quote(value))")
        #expect(output == value + "\0")
    }

    @Test("plain values stay bare so plans read naturally")
    func plainValuesStayBare() {
        #expect(ShellQuote.quote("esxi-01") == "esxi-01")
        #expect(ShellQuote.quote("/vmfs/volumes/ds1/web/web.vmx") == "/vmfs/volumes/ds1/web/web.vmx")
        #expect(ShellQuote.quote("12") == "12")
        #expect(ShellQuote.quote("web; reboot") == "'web; reboot'")
        #expect(ShellQuote.quote("it's") == "'it'\\''s'")
    }

    @Test("a list becomes one word per entry")
    func listOfWords() throws {
        let output = try runShell("printf '%s\\0' \(ShellQuote.quote(["a b", "$(id)", "c"]))")
        #expect(output == "a b\0$(id)\0c\0")
    }

    private func runShell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("Durations")
struct DurationTextTests {
    @Test func parsesOperatorForms() {
        #expect(DurationText.parse("90s") == .seconds(90))
        #expect(DurationText.parse("5m") == .seconds(300))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("2.5") == .milliseconds(2500))
        #expect(DurationText.parse("5 minutes") == nil)
        #expect(DurationText.parse("m5") == nil)
        #expect(DurationText.parse("") == nil)
    }

    @Test func formatsCompactly() {
        #expect(DurationText.format(.milliseconds(850)) == "850ms")
        #expect(DurationText.format(.milliseconds(12_400)) == "12.4s")
        #expect(DurationText.format(.seconds(185)) == "3m05s")
        #expect(DurationText.format(.seconds(3720)) == "1h02m")
    }
}

@Suite("process group wrapper")
struct ProcessGroupTests {
    @Test("a wrapped command unwraps to itself, quotes and all; the marker line splits off stderr")
    func roundTrip() {
        for command in ["vim-cmd vmsvc/getallvms", "vim-cmd solo/registervm '/vmfs/volumes/ds/it'\\''s/x.vmx'", "echo a; echo b >&2"] {
            #expect(ProcessGroup.unwrap(ProcessGroup.wrap(command)) == command)
        }
        #expect(ProcessGroup.unwrap("vim-cmd vmsvc/getallvms") == nil)
        let (group, rest) = ProcessGroup.split(Data("drctl-process-group:4242\nwarn\n".utf8))!
        #expect(group == 4242 && rest == Data("warn\n".utf8))
        #expect(ProcessGroup.split(Data("drctl-process-gr".utf8)) == nil)
    }
}
