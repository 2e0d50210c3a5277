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

    /// Registers a secret value (short values are skipped: masking `1` would mask every digit).
    public func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        _ = lock.withLock { values.insert(secret) }
    }

    public func redact(_ text: String) -> String {
        let (secrets, expressions) = lock.withLock { (values, patterns) }
        var result = text
        for secret in secrets where result.contains(secret) { result = result.replacingOccurrences(of: secret, with: Self.mask) }
        for expression in expressions {
            result = expression.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result), withTemplate: Self.mask)
        }
        return result
    }
}
