/// POSIX shell quoting for values interpolated into commands run by ESXi's BusyBox ash.
public enum ShellQuote {
    /// Characters that never need quoting. Anything else (blanks, `;`, `$`, quotes, backticks,
    /// newlines, globs) makes the value single-quoted.
    private static let plainCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")

    /// The value as exactly one literal shell word.
    ///
    /// Single quotes keep everything literal; an embedded `'` becomes `'\''`. Values that only hold
    /// plain characters stay bare so plans stay readable (`vim-cmd vmsvc/power.on 12`).
    public static func quote(_ value: String) -> String {
        if !value.isEmpty, value.allSatisfy({ plainCharacters.contains($0) }) {
            return value
        }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Several values as separate words.
    public static func quote(_ values: [String]) -> String {
        values.map(quote).joined(separator: " ")
    }
}
