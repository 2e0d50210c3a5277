import Foundation

/// Masks secrets in output that arrives in pieces (a command printing more than fits in memory).
/// Text is passed on a line at a time, so a secret or a `redact:` pattern is never cut in two;
/// a line longer than `longestLine` is cut where no mask would straddle the cut.
public final class RedactingStream {
    private let redactor: Redactor
    private let longestLine: Int
    private var pending = Data()

    public init(_ redactor: Redactor, longestLine: Int = 1 << 20) {
        self.redactor = redactor
        self.longestLine = longestLine
    }

    /// Takes the next piece; returns the masked text that is safe to write now.
    public func push(_ bytes: Data) -> Data {
        // Nothing to mask: the bytes go on as they came.
        if pending.isEmpty, redactor.isEmpty { return bytes }
        // What is kept back never holds a newline: only the new bytes are searched.
        let newLine = bytes.lastIndex(of: UInt8(ascii: "\n")).map { pending.count + ($0 - bytes.startIndex) + 1 }
        pending.append(bytes)
        var cut = newLine.map { pending.startIndex + $0 }
        if cut == nil, pending.count > longestLine { cut = safeCut() }
        guard let cut, cut > pending.startIndex else { return Data() }
        let ready = pending[pending.startIndex..<cut]
        pending = Data(pending[cut...])
        return Data(redactor.redact(String(decoding: ready, as: UTF8.self)).utf8)
    }

    /// The rest, at the end of the output.
    public func finish() -> Data {
        defer { pending = Data() }
        return pending.isEmpty ? Data() : Data(redactor.redact(String(decoding: pending, as: UTF8.self)).utf8)
    }

    /// A cut in a long line: half way, moved past any mask that would straddle it. Works on the
    /// decoded text (what is stored anyway), keeping back a UTF-8 sequence cut short by the pipe.
    private func safeCut() -> Int? {
        let incomplete = Self.incompleteTail(pending)
        if redactor.isEmpty { return pending.endIndex - incomplete }
        let text = String(decoding: pending.dropLast(incomplete), as: UTF8.self)
        var half = text.utf8.index(text.utf8.startIndex, offsetBy: text.utf8.count / 2)
        while String.Index(half, within: text) == nil { half = text.utf8.index(after: half) }
        var cut = half
        for range in redactor.maskedRanges(in: text) where range.contains(cut) { cut = range.upperBound }
        guard cut < text.endIndex else { return nil }
        // Re-encoded, the decoded text is the same bytes (invalid ones already replaced).
        let rest = Data(text[cut...].utf8) + pending.suffix(incomplete)
        pending = Data(text[..<cut].utf8) + rest
        return pending.startIndex + text[..<cut].utf8.count
    }

    /// How many bytes at the end start a UTF-8 sequence that has not fully arrived.
    static func incompleteTail(_ data: Data) -> Int {
        for back in 1...min(3, data.count) {
            let byte = data[data.endIndex - back]
            if byte & 0xC0 == 0x80 { continue }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return length > back ? back : 0
        }
        return 0
    }
}
