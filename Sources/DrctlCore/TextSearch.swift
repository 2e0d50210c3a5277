#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension String {
    /// Whether `needle` occurs in this text, compared byte by byte (UTF-8). Foundation's
    /// `contains` goes through NSString and costs microseconds a call, which adds up in the
    /// simulator and the recovery filters, called hundreds of thousands of times on a large site.
    public func includes(_ needle: String) -> Bool {
        var found = needle.isEmpty
        scan(for: needle) { _ in
            found = true
            return false
        }
        return found
    }

    /// Where `needle` occurs, as UTF-8 byte offsets, each after the end of the one before. A match
    /// of valid UTF-8 in valid UTF-8 starts and ends on whole characters' bytes.
    public func byteRanges(of needle: String) -> [Range<Int>] {
        var found: [Range<Int>] = []
        scan(for: needle) { range in
            found.append(range)
            return true
        }
        return found
    }

    /// Calls `match` with each occurrence of `needle` until it returns false.
    private func scan(for needle: String, _ match: (Range<Int>) -> Bool) {
        var haystack = self
        var needle = needle
        haystack.withUTF8 { text in
            needle.withUTF8 { wanted in
                guard !wanted.isEmpty, wanted.count <= text.count, let base = text.baseAddress, let pattern = wanted.baseAddress else { return }
                // memchr to each candidate first byte, memcmp for the rest (memmem is a GNU extension Swift does not import).
                let last = text.count - wanted.count
                var start = 0
                while start <= last {
                    guard let candidate = memchr(base + start, Int32(pattern.pointee), last - start + 1) else { return }
                    let offset = base.distance(to: candidate.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + offset, pattern, wanted.count) == 0 {
                        guard match(offset..<offset + wanted.count) else { return }
                        start = offset + wanted.count
                    } else {
                        start = offset + 1
                    }
                }
            }
        }
    }
}

extension Substring {
    /// `trimmingCharacters(in: .whitespaces)` without NSString: blanks are tabs and Unicode space
    /// separators (Zs). Parsers call it per field, thousands of times per what-if on a large site.
    public func trimmingBlanks() -> String {
        trimmingScalars { $0 == " " || $0 == "\t" || ($0.value >= 0x80 && $0.properties.generalCategory == .spaceSeparator) }
    }

    /// `trimmingCharacters(in: .whitespacesAndNewlines)` without NSString.
    public func trimmingWhitespace() -> String {
        trimmingScalars { $0.value == 0x20 || (0x09...0x0D).contains($0.value) || ($0.value >= 0x80 && $0.properties.isWhitespace) }
    }

    private func trimmingScalars(_ isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        guard let first = unicodeScalars.firstIndex(where: { !isTrimmed($0) }),
              let last = unicodeScalars.lastIndex(where: { !isTrimmed($0) }) else { return "" }
        return String(Substring(unicodeScalars[first...last]))
    }
}

extension String {
    public func trimmingBlanks() -> String { Substring(self).trimmingBlanks() }
    public func trimmingWhitespace() -> String { Substring(self).trimmingWhitespace() }
}
