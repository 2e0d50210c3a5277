import DrctlCore
import Testing

@Suite("visible text")
struct VisibleTextTests {
    @Test("every C0 and C1 control, DEL and the bidi overrides become visible escapes; newline and tab stay")
    func everyControl() {
        for value in Array(0x00...0x1F) + Array(0x7F...0x9F) + Array(0x202A...0x202E) + Array(0x2066...0x2069) {
            let scalar = Unicode.Scalar(UInt32(value))!
            let shown = VisibleText.escape("a\(Character(scalar))b")
            if value == 0x0A || value == 0x09 {
                #expect(shown == "a\(Character(scalar))b")
            } else {
                #expect(!shown.unicodeScalars.contains(scalar), "U+\(String(value, radix: 16)) passed through")
                #expect(shown.hasPrefix("a\\") && shown.hasSuffix("b"))
            }
        }
    }

    @Test("ANSI and OSC sequences read as what they are")
    func sequences() {
        #expect(VisibleText.escape("\u{1B}[1A\u{1B}[2K") == #"\e[1A\e[2K"#)
        #expect(VisibleText.escape("\u{1B}]52;c;ZXZpbA==\u{07}") == #"\e]52;c;ZXZpbA==\x07"#, "an OSC 52 clipboard write")
        #expect(VisibleText.escape("\u{1B}]0;title\u{1B}\\") == #"\e]0;title\e\"#)
        #expect(VisibleText.escape("\u{9B}2J") == #"\u{9b}2J"#, "a C1 CSI")
        #expect(VisibleText.escape("line\r\n") == #"line\r"# + "\n", "a carriage return cannot overwrite a line")
        #expect(VisibleText.escape("db-01 ✓ Ä 数据库") == "db-01 ✓ Ä 数据库", "printable text is untouched")
    }
}
