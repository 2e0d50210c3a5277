import Foundation

/// Parsed outputs kept by their text. The same listing comes back again and again: a goal's
/// end-state reads every survivor, and `drctl whatif --all-hosts` reads every host of an
/// unchanged site once per failure, so on a 2,000-VM site most parses repeat one already done.
/// Hashing the text costs a fraction of parsing it. Parsers are pure, so a kept result is the
/// result; a throwing parse is never kept.
final class ParseMemo<Parsed: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var parsed: [String: Parsed] = [:]
    private var keptBytes = 0
    /// The text kept, at most (then it starts again empty: a bound, not a policy).
    private let budget: Int

    init(budget: Int = 2 << 20) {
        self.budget = budget
    }

    func value(of text: String, _ parse: (String) throws -> Parsed) rethrows -> Parsed {
        if let known = lock.withLock({ parsed[text] }) { return known }
        let result = try parse(text)
        let size = text.utf8.count
        guard size <= budget / 16 else { return result }
        lock.withLock {
            if keptBytes + size > budget {
                parsed.removeAll(keepingCapacity: true)
                keptBytes = 0
            }
            if parsed.updateValue(result, forKey: text) == nil { keptBytes += size }
        }
        return result
    }
}
