import Engine
import Foundation
import Testing

@Suite("masking output that arrives in pieces")
struct RedactingStreamTests {
    func masked(_ pieces: [String], secrets: [String], patterns: [String] = [], longestLine: Int = 1 << 20) -> String {
        let redactor = Redactor(patterns: patterns)
        secrets.forEach(redactor.register)
        let stream = RedactingStream(redactor, longestLine: longestLine)
        var out = Data()
        for piece in pieces { out += stream.push(Data(piece.utf8)) }
        out += stream.finish()
        return String(decoding: out, as: UTF8.self)
    }

    @Test("a secret cut in two by the pipe is masked whole, on every line")
    func splitSecret() {
        let text = masked(["line 1 pass", "word-42 here\nline 2 pass", "word-42\n"], secrets: ["password-42"])
        #expect(text == "line 1 [redacted] here\nline 2 [redacted]\n")
    }

    @Test("a pattern cut in two is masked whole")
    func splitPattern() {
        #expect(masked(["token=ab", "cdef rest\n"], secrets: [], patterns: [#"token=\w+"#]) == "[redacted] rest\n")
    }

    @Test("a line longer than the limit is cut where no mask straddles the cut, and UTF-8 arriving in halves stays whole")
    func longLine() {
        let secret = "S3CRET-VALUE"
        // Every position of the secret around the half-way cut of a 64-byte window.
        for offset in 20...44 {
            let line = String(repeating: "é", count: 3) + String(repeating: "x", count: offset) + secret + String(repeating: "y", count: 40)
            // Pieces of 7 bytes: some end inside an "é".
            let bytes = Array(line.utf8)
            let redactor = Redactor()
            redactor.register(secret)
            let stream = RedactingStream(redactor, longestLine: 64)
            var out = Data()
            for start in stride(from: 0, to: bytes.count, by: 7) { out += stream.push(Data(bytes[start..<min(start + 7, bytes.count)])) }
            out += stream.finish()
            let text = String(decoding: out, as: UTF8.self)
            #expect(!text.contains("S3CRET") && text.contains("[redacted]") && text.hasPrefix("ééé"), "offset \(offset): \(text)")
        }
    }

    @Test("short secrets and secrets inside other secrets are masked in one pass, never inside a mask")
    func onePass() {
        let redactor = Redactor()
        ["d", "abc12"].forEach(redactor.register)
        #expect(redactor.redact("abc12 and d") == "[redacted] an[redacted] [redacted]")
    }
}
