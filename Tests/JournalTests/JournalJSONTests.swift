import DrctlCore
import Engine
import Foundation
@testable import Journal
import Testing

@Suite("journal JSON")
struct JournalJSONTests {
    @Test("entries encode to JSON Foundation reads back unchanged, keys sorted, on one line")
    func roundTrip() throws {
        let entry: [String: Any] = [
            "type": "command-finished", "seq": 12, "ok": true, "no": false, "ratio": 2.5, "whole": 3.0, "none": NSNull(),
            "stdout": "line 1\nquote \" backslash \\ tab\t cr\r bell \u{07} del \u{7F} sep \u{2028} é 日本 🙂 /vmfs/volumes",
            "list": [1, "two", ["nested": [true]]], "empty": [String: Any](), "nothing": [Any](),
        ]
        let data = JournalJSON.encode(entry)
        #expect(!data.contains(0x0A), "one line")
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("{\"empty\":{},\"list\":"), "keys sorted: \(text)")
        let back = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(back["stdout"] as? String == entry["stdout"] as? String)
        #expect(back["seq"] as? Int == 12 && back["ratio"] as? Double == 2.5 && back["whole"] as? Int == 3)
        #expect(back["ok"] as? Bool == true && back["no"] as? Bool == false && back["none"] is NSNull)
        #expect(((back["list"] as? [Any])?[2] as? [String: Any])?["nested"] as? [Bool] == [true])
        #expect(text.contains("/vmfs/volumes"), "slashes are not escaped")
    }

    @Test("escapes only what JSON and line readers need, wherever it sits; everything else is copied as is")
    func escapes() throws {
        let strings = ["", "\"", "plain", "\u{85}next line", "e\u{301}\"", "\u{2028}", "end\u{2029}", "\u{1}\u{1F}\u{7F}\u{9F}\u{A0}",
                       "é\\日本\t🙂\r\n", "Ā ā \u{E000} ₂"]
        for string in strings {
            let data = JournalJSON.encode(["s": string])
            let text = String(decoding: data, as: UTF8.self)
            let back = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
            #expect(back["s"] == string, "\(text)")
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" }, "\(text)")
        }
        #expect(String(decoding: JournalJSON.encode(["s": "a\u{2028}b\u{85}é"]), as: UTF8.self) == #"{"s":"a\u2028b\u0085é"}"#)
    }

    @Test("a template value encodes byte for byte as its JSON object does, masked as every other entry is", arguments: 0..<200)
    func valueEncodesAsItsObject(seed: UInt64) {
        var generator = SplitMix64(state: seed)
        let value = Self.randomValue(&generator, depth: 0)
        #expect(JournalJSON.encode(value) == Array(JournalJSON.encode(value.jsonObject)))
        let redactor = Redactor()
        redactor.register("s3cret-token")
        #expect(JournalJSON.encode(value, masking: redactor.redact) == Array(JournalJSON.encode(redactor.redactEverywhere(value.jsonObject))))
    }

    static let texts = ["", "esx-01", "s3cret-token", "a \"quoted\" s3cret-token\n", "日本 🙂", "\u{2028}", "/vmfs/volumes/ds-app/vm 01/vm 01.vmx"]
    static let numbers: [Double] = [0, -1, 3, 2.5, 1e15, 1e16, -0.125, .infinity, .nan, 123_456_789]

    static func randomValue(_ generator: inout SplitMix64, depth: Int) -> Value {
        switch generator.next() % (depth < 3 ? 8 : 5) {
        case 0: return .string(texts[Int(generator.next() % UInt64(texts.count))])
        case 1: return .number(numbers[Int(generator.next() % UInt64(numbers.count))])
        case 2: return .bool(generator.next() % 2 == 0)
        case 3: return .null
        case 4: return .unknown(generator.next() % 2 == 0 ? "vm.name" : "s3cret-token")
        case 5, 6:
            return .map(Dictionary((0..<Int(generator.next() % 5)).map { ("\(texts[Int(generator.next() % UInt64(texts.count))])\($0)", randomValue(&generator, depth: depth + 1)) },
                                   uniquingKeysWith: { first, _ in first }))
        default: return .list((0..<Int(generator.next() % 5)).map { _ in randomValue(&generator, depth: depth + 1) })
        }
    }

    @Test("the SHA-256 is the usual lowercase hex")
    func sha256() {
        #expect(JournalChain.sha256(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
