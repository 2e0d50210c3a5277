import Foundation

extension JournalJSON {
    /// Reads one journal line (a JSON object) into Swift values: `String`, `Int` (a number without
    /// fraction or exponent that fits), `Double`, `Bool`, `NSNull`, `[Any]` and `[String: Any]`.
    /// Nil for anything that is not exactly one well-formed object, such as a line torn by a crash.
    /// Foundation's parser builds Objective-C objects and converts them back; replaying and
    /// reporting a long journal spent most of its time there.
    public static func object<Bytes: Collection<UInt8>>(from line: Bytes) -> [String: Any]? {
        line.withContiguousStorageIfAvailable { buffer in parseObjectLine(buffer) } ?? Array(line).withUnsafeBufferPointer { parseObjectLine($0) }
    }

    /// Any JSON value (an `outputs/*.json` file), or nil when it is not well-formed.
    public static func value(from data: Data) -> Any? {
        data.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw.bindMemory(to: UInt8.self))
            guard let value = try? reader.value(depth: 0) else { return nil }
            reader.skipSpace()
            return reader.atEnd ? value : nil
        }
    }

    /// Each line read as `object(from:)` does, long journals on every core: the lines are
    /// independent, and a report or a resume of a long run waits on reading them.
    static func objects(in lines: [UnsafeRawBufferPointer]) -> [[String: Any]?] {
        let chunks = lines.count < 4096 ? 1 : ProcessInfo.processInfo.activeProcessorCount * 4
        guard chunks > 1 else { return lines.map { object(from: $0) } }
        // Each chunk initializes its own slots of the result, so nothing is copied afterwards.
        return Array(unsafeUninitializedCapacity: lines.count) { buffer, initialized in
            nonisolated(unsafe) let slots = buffer.baseAddress!, texts = lines
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = texts.count * chunk / chunks, end = texts.count * (chunk + 1) / chunks
                for index in start..<end { (slots + index).initialize(to: object(from: texts[index])) }
            }
            initialized = lines.count
        }
    }

    private static func parseObjectLine(_ bytes: UnsafeBufferPointer<UInt8>) -> [String: Any]? {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "{"), let object = try? reader.object(depth: 0) else { return nil }
        reader.skipSpace()
        return reader.atEnd ? object : nil
    }

    private struct Malformed: Error {}

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        /// Deeper than this is no journal drctl wrote, and recursion must not exhaust the stack.
        static let maximumDepth = 512

        var atEnd: Bool { position == bytes.count }
        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            skipSpace()
            guard peek == byte else { throw Malformed() }
            position += 1
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw Malformed() }
            for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] { throw Malformed() }
            position += count
        }

        mutating func value(depth: Int) throws -> Any {
            guard depth < Self.maximumDepth else { throw Malformed() }
            skipSpace()
            guard let byte = peek else { throw Malformed() }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["):
                position += 1
                var list: [Any] = []
                skipSpace()
                if peek == UInt8(ascii: "]") { position += 1; return list }
                repeat {
                    list.append(try value(depth: depth + 1))
                    skipSpace()
                    guard let next = peek else { throw Malformed() }
                    position += 1
                    if next == UInt8(ascii: "]") { return list }
                    guard next == UInt8(ascii: ",") else { throw Malformed() }
                } while true
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "t"): try literal("true"); return true
            case UInt8(ascii: "f"): try literal("false"); return false
            case UInt8(ascii: "n"): try literal("null"); return NSNull()
            default: return try number()
            }
        }

        /// An object, at the `{` that opens it.
        mutating func object(depth: Int) throws -> [String: Any] {
            guard depth < Self.maximumDepth else { throw Malformed() }
            position += 1
            // Fields are gathered first so that the dictionary is sized once, not grown key by key.
            var fields: [(String, Any)] = []
            fields.reserveCapacity(16)
            skipSpace()
            if peek == UInt8(ascii: "}") { position += 1; return [:] }
            repeat {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"))
                fields.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard let next = peek else { throw Malformed() }
                position += 1
                if next == UInt8(ascii: "}") {
                    var object = [String: Any](minimumCapacity: fields.count)
                    for (key, value) in fields { object[key] = value }
                    return object
                }
                guard next == UInt8(ascii: ",") else { throw Malformed() }
            } while true
        }

        mutating func string() throws -> String {
            guard peek == UInt8(ascii: "\"") else { throw Malformed() }
            position += 1
            let start = position
            // The common case: no escape, copied straight from the line.
            if let base = bytes.baseAddress {
                var ascii = true
                while position < bytes.count {
                    let byte = base[position]
                    if byte == UInt8(ascii: "\"") {
                        let utf8 = UnsafeBufferPointer(start: base + start, count: position - start)
                        let text = ascii ? String(decoding: utf8, as: UTF8.self) : try validated(utf8)
                        position += 1
                        return text
                    }
                    if byte == UInt8(ascii: "\\") { break }
                    guard byte >= 0x20 else { throw Malformed() }
                    ascii = ascii && byte < 0x80
                    position += 1
                }
            }
            var decoded = Array(bytes[start..<position])
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""): return try validated(decoded.withUnsafeBufferPointer { $0 })
                case UInt8(ascii: "\\"): try escape(into: &decoded)
                case 0..<0x20: throw Malformed()
                default: decoded.append(byte)
                }
            }
            throw Malformed()
        }

        private func validated(_ utf8: UnsafeBufferPointer<UInt8>) throws -> String {
            let text = String(decoding: utf8, as: UTF8.self)
            // Decoding replaces invalid UTF-8 with U+FFFD; only ASCII (most of a journal) is sure to be whole.
            if utf8.allSatisfy({ $0 < 0x80 }) { return text }
            guard text.utf8.elementsEqual(utf8) else { throw Malformed() }
            return text
        }

        private mutating func escape(into decoded: inout [UInt8]) throws {
            guard let byte = peek else { throw Malformed() }
            position += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hexQuad()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A surrogate pair names one scalar beyond the Basic Multilingual Plane.
                    guard peek == UInt8(ascii: "\\") else { throw Malformed() }
                    position += 1
                    guard peek == UInt8(ascii: "u") else { throw Malformed() }
                    position += 1
                    let low = try hexQuad()
                    guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
                decoded.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: throw Malformed()
            }
        }

        private mutating func hexQuad() throws -> UInt32 {
            guard position + 4 <= bytes.count else { throw Malformed() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                position += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Malformed()
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as JSON has it.
        mutating func number() throws -> Any {
            let start = position
            var integral = true
            if peek == UInt8(ascii: "-") { position += 1 }
            guard let first = peek, isDigit(first) else { throw Malformed() }
            position += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if peek == UInt8(ascii: ".") {
                integral = false
                position += 1
                guard let byte = peek, isDigit(byte) else { throw Malformed() }
                skipDigits()
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                integral = false
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                guard let byte = peek, isDigit(byte) else { throw Malformed() }
                skipDigits()
            }
            // Most numbers are small integers (seq, index, durations): read without a String.
            if integral, position - start <= 18 {
                let negative = bytes[start] == UInt8(ascii: "-")
                var value = 0
                for index in (negative ? start + 1 : start)..<position { value = value * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                return negative ? -value : value
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            if integral, let integer = Int(text) { return integer }
            guard let double = Double(text) else { throw Malformed() }
            return double
        }

        private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

        private mutating func skipDigits() {
            while let byte = peek, isDigit(byte) { position += 1 }
        }
    }
}

/// Where the lines of a journal lie. Splitting a `Data` with `split(separator:)` went through
/// generic slicing byte by byte and cost as much as parsing the lines.
enum JournalLines {
    /// The byte offsets of each line, newline excluded. The newline that ends the file starts no
    /// line; other empty lines are kept only when asked (a chain check counts every line).
    static func ranges(in data: Data, keepingEmpty: Bool = false) -> [Range<Int>] {
        data.withUnsafeBytes { raw -> [Range<Int>] in
            guard let base = raw.baseAddress, raw.count > 0 else { return [] }
            var ranges: [Range<Int>] = []
            var start = 0
            while start < raw.count {
                let end = memchr(base + start, 0x0A, raw.count - start).map { $0 - UnsafeMutableRawPointer(mutating: base) } ?? raw.count
                if keepingEmpty || end > start { ranges.append(start..<end) }
                start = end + 1
            }
            return ranges
        }
    }
}
