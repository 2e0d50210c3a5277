import DrctlCore
import Foundation

/// Masks secrets before anything is written or printed: the values of secret references (passwords
/// and passphrases, registered when read) and text matching the runbook's `redact:` patterns.
public final class Redactor: @unchecked Sendable {
    public static let mask = "[redacted]"

    private let lock = NSLock()
    private var values: Set<String> = []
    /// The registered secrets, longest first: a secret that contains another is masked whole.
    private var secretsLongestFirst: [String] = []
    private var patterns: [NSRegularExpression] = []

    public init(patterns: [String] = []) {
        self.patterns = patterns.compactMap { try? NSRegularExpression(pattern: $0) }
    }

    /// Registers a secret value. Every length is masked, the longest first so that a secret
    /// containing another is masked whole; short secrets are warned about when the inventory is read.
    public func register(_ secret: String) {
        guard !secret.isEmpty else { return }
        lock.withLock {
            guard values.insert(secret).inserted else { return }
            secretsLongestFirst = values.sorted { $0.utf8.count > $1.utf8.count }
        }
    }

    /// Nothing to mask: no secret registered, no pattern.
    public var isEmpty: Bool { lock.withLock { values.isEmpty && patterns.isEmpty } }

    public func redact(_ text: String) -> String {
        let ranges = maskedRanges(in: text)
        guard !ranges.isEmpty else { return text }
        var result = ""
        var position = text.startIndex
        for range in ranges {
            result += text[position..<range.lowerBound]
            result += Self.mask
            position = range.upperBound
        }
        return result + text[position...]
    }

    /// Where masks go, in order and merged where they overlap: every occurrence of a secret (found in
    /// one pass, so a short secret never masks part of a mask) and every match of a pattern.
    public func maskedRanges(in text: String) -> [Range<String.Index>] {
        let (secrets, expressions) = lock.withLock { (secretsLongestFirst, patterns) }
        // Every event and output passes through here: with nothing to mask, nothing is searched.
        guard !secrets.isEmpty || !expressions.isEmpty else { return [] }
        // Searched as UTF-8 bytes, exactly as a host would echo them back. A match of valid UTF-8
        // in valid UTF-8 always starts and ends on whole characters' bytes.
        let hits = secrets.flatMap { text.byteRanges(of: $0) }
        let utf8 = text.utf8
        var found = hits.map { utf8.index(utf8.startIndex, offsetBy: $0.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: $0.upperBound) }
        if !expressions.isEmpty {
            let whole = NSRange(text.startIndex..., in: text)
            for expression in expressions {
                for match in expression.matches(in: text, range: whole) where match.range.length > 0 {
                    if let range = Range(match.range, in: text) { found.append(range) }
                }
            }
        }
        return Self.merged(found)
    }

    /// The ranges in order, overlapping ones joined.
    private static func merged(_ found: [Range<String.Index>]) -> [Range<String.Index>] {
        var merged: [Range<String.Index>] = []
        for range in found.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
