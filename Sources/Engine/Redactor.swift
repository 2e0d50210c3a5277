import Foundation

/// Masks secrets before anything is written or printed: the values of secret references (passwords
/// and passphrases, registered when read) and text matching the runbook's `redact:` patterns.
public final class Redactor: @unchecked Sendable {
    public static let mask = "[redacted]"

    private let lock = NSLock()
    private var values: Set<String> = []
    private var patterns: [NSRegularExpression] = []

    public init(patterns: [String] = []) {
        self.patterns = patterns.compactMap { try? NSRegularExpression(pattern: $0) }
    }

    /// Registers a secret value. Every length is masked, the longest first so that a secret
    /// containing another is masked whole; short secrets are warned about when the inventory is read.
    public func register(_ secret: String) {
        guard !secret.isEmpty else { return }
        _ = lock.withLock { values.insert(secret) }
    }

    public func redact(_ text: String) -> String {
        let (secrets, expressions) = lock.withLock { (values, patterns) }
        var result = text
        for secret in secrets.sorted(by: { $0.count > $1.count }) where result.contains(secret) { result = result.replacingOccurrences(of: secret, with: Self.mask) }
        for expression in expressions {
            result = expression.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result), withTemplate: Self.mask)
        }
        return result
    }
}
