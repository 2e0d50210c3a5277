/// Durations as operators write them in runbooks: `90s`, `5m`, `1h30m`, `250ms`, or plain seconds.
public enum DurationText {
    /// The longest duration drctl accepts: a week. Longer ones are typos (`1e20`), and would
    /// overflow the arithmetic of deadlines.
    public static let longest: Double = 7 * 24 * 3_600_000

    /// Parses a duration, or returns nil when the text is not one (or is not finite, or is longer than a week).
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingBlanks()
        if trimmed.isEmpty { return nil }
        if let seconds = Double(trimmed) {
            guard seconds.isFinite, seconds >= 0, seconds * 1000 <= longest else { return nil }
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
        var total: Double = 0
        var number = ""
        var unit = ""
        var sawPart = false
        func flush() -> Bool {
            guard let value = Double(number) else { return false }
            let milliseconds: Double
            switch unit {
            case "ms": milliseconds = value
            case "s": milliseconds = value * 1000
            case "m": milliseconds = value * 60_000
            case "h": milliseconds = value * 3_600_000
            default: return false
            }
            guard milliseconds.isFinite else { return false }
            total += milliseconds.rounded()
            number = ""
            unit = ""
            sawPart = true
            return true
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard flush(), sawPart, total <= longest else { return nil }
        return .milliseconds(Int64(total))
    }

    /// A compact human form: `850ms`, `12.4s`, `3m05s`, `1h02m`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let seconds = Double(milliseconds) / 1000
        if seconds < 60 {
            let tenths = (seconds * 10).rounded() / 10
            return tenths == tenths.rounded() ? "\(Int(tenths))s" : "\(tenths)s"
        }
        let wholeSeconds = Int(seconds.rounded())
        if wholeSeconds < 3600 { return "\(wholeSeconds / 60)m\(pad(wholeSeconds % 60))s" }
        return "\(wholeSeconds / 3600)h\(pad((wholeSeconds % 3600) / 60))m"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    public var seconds: Double { Double(milliseconds) / 1000 }
}

import Foundation
