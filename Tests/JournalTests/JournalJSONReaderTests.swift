import Foundation
@testable import Journal
import Testing

@Suite("journal JSON reader")
struct JournalJSONReaderTests {
    /// The same lines Foundation reads, compared by re-encoding both sides (keys sorted, numbers canonical).
    private func agrees(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let data = Data(text.utf8)
        let foundation = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        let ours = JournalJSON.object(from: data)
        #expect((foundation == nil) == (ours == nil), "\(text): Foundation \(foundation == nil ? "refuses" : "reads") it", sourceLocation: sourceLocation)
        if let foundation, let ours {
            #expect(JournalJSON.encode(ours) == JournalJSON.encode(foundation), "\(text)", sourceLocation: sourceLocation)
        }
    }

    @Test("reads every value the writer writes, as Swift values")
    func roundTrip() throws {
        let entry: [String: Any] = [
            "type": "command-finished", "seq": 12, "ok": true, "no": false, "ratio": 2.5, "negative": -7, "tiny": 1.5e-7, "none": NSNull(),
            "stdout": "line 1\nquote \" backslash \\ tab\t cr\r bell \u{07} del \u{7F} sep \u{2028} é 日本 🙂 /vmfs/volumes",
            "list": [1, "two", ["nested": [true]]], "empty": [String: Any](), "nothing": [Any](),
        ]
        let back = try #require(JournalJSON.object(from: JournalJSON.encode(entry)))
        #expect(back["stdout"] as? String == entry["stdout"] as? String)
        #expect(back["seq"] as? Int == 12 && back["negative"] as? Int == -7 && back["ratio"] as? Double == 2.5 && back["tiny"] as? Double == 1.5e-7)
        #expect(back["ok"] as? Bool == true && back["no"] as? Bool == false && back["none"] is NSNull)
        #expect(((back["list"] as? [Any])?[2] as? [String: Any])?["nested"] as? [Bool] == [true])
        #expect(JournalJSON.encode(back) == JournalJSON.encode(entry))
    }

    @Test("accepts and refuses what Foundation's parser does")
    func agreesWithFoundation() {
        let lines = [
            #"{}"#, #" { "a" : [ 1 , 2 ] } "#, #"{"a":"\u00e9\ud83d\ude42\/\b\f\n\r\t\"\\"}"#, #"{"a":-0,"b":0.5,"c":1E3,"d":-2e-2}"#,
            #"{"a":{"b":{"c":[[],{}]}}}"#, #"{"a":null,"b":true,"c":false}"#, #"{"dup":1,"dup":2}"#,
            // Refused:
            #"{"a":1"#, #"{"a":"unterminated}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":+1}"#,
            #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{a:1}"#, #"{"a":1}{"b":2}"#, #"{"a":1} x"#,
            "{\"a\":\"raw\ttab\"}", "{\"a\":\"raw\nnewline\"}", #"[1,2]"#, #""text""#, "", " ",
        ]
        for line in lines { agrees(line) }
        #expect(JournalJSON.object(from: Data(#"{"a":1,}"#.utf8)) == nil, "a trailing comma is not JSON, though Foundation lets it pass")
    }

    @Test("a line cut anywhere, as a crash leaves it, is refused")
    func tornLines() throws {
        let line = JournalJSON.encode(["type": "command-sent", "command": "vim-cmd vmsvc/power.on 12", "list": [1, 2.5, "é🙂"], "ok": true])
        for length in 0..<line.count {
            #expect(JournalJSON.object(from: line.prefix(length)) == nil, "cut at \(length)")
        }
        #expect(JournalJSON.object(from: line) != nil)
    }

    @Test("invalid UTF-8, lone surrogates and absurd nesting are refused, never a crash")
    func hostileInput() {
        #expect(JournalJSON.object(from: Data([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D])) == nil, "invalid UTF-8")
        #expect(JournalJSON.object(from: Data(#"{"a":"\ud800"}"#.utf8)) == nil, "a lone high surrogate")
        #expect(JournalJSON.object(from: Data(#"{"a":"\udc00x"}"#.utf8)) == nil, "a lone low surrogate")
        let deep = "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(JournalJSON.object(from: Data(deep.utf8)) == nil)
        #expect(JournalJSON.value(from: Data("[1, {\"b\": [true]}]".utf8)) as? [Any] != nil, "an outputs file may hold any value")
    }
}
