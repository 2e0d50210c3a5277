/// POSIX shell quoting for values interpolated into commands run by ESXi's BusyBox ash.
public enum ShellQuote {
    /// Bytes that never need quoting. Anything else (blanks, `;`, `$`, quotes, backticks,
    /// newlines, globs, any byte of a non-ASCII character) makes the value single-quoted.
    private static let plainBytes: [Bool] = {
        var plain = [Bool](repeating: false, count: 256)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-".utf8 { plain[Int(byte)] = true }
        return plain
    }()

    /// The value as exactly one literal shell word.
    ///
    /// Single quotes keep everything literal; an embedded `'` becomes `'\''`. Values that only hold
    /// plain characters stay bare so plans stay readable (`vim-cmd vmsvc/power.on 12`). Works on
    /// UTF-8 bytes (a `'` byte is never part of another character): every command sent is quoted
    /// here, and Foundation's string replacement was a fifth of an SSH session thread's time.
    public static func quote(_ value: String) -> String {
        if !value.isEmpty, value.utf8.allSatisfy({ plainBytes[Int($0)] }) {
            return value
        }
        var quoted = [UInt8]()
        quoted.reserveCapacity(value.utf8.count + 8)
        quoted.append(UInt8(ascii: "'"))
        for byte in value.utf8 {
            if byte == UInt8(ascii: "'") {
                quoted.append(contentsOf: "'\\''".utf8)
            } else {
                quoted.append(byte)
            }
        }
        quoted.append(UInt8(ascii: "'"))
        return String(decoding: quoted, as: UTF8.self)
    }

    /// Several values as separate words.
    public static func quote(_ values: [String]) -> String {
        values.map(quote).joined(separator: " ")
    }
}
