import Foundation

/// The journal's times: RFC 3339 in UTC with milliseconds (`2026-12-02T03:13:34.164Z`), written
/// and read by hand. Foundation's formatters go through ICU and cost more than the rest of a
/// journal line together; replaying or reporting a 100,000-event journal spent most of its time
/// in them. Pure functions, so any thread may call them.
public enum Timestamp {
    /// `2026-12-02T03:13:34.164Z`: to the nearest millisecond.
    public static func string(from date: Date) -> String {
        // Every journal line carries one or two: written into one buffer, not pieced together.
        let parts = Parts(date, offsetSeconds: 0)
        guard (0...9999).contains(parts.year) else {
            return "\(digits(parts.year, 4))-\(digits(parts.month, 2))-\(digits(parts.day, 2))T\(clock(parts))Z"
        }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var rest = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(parts.year, 4, at: 0)
            put(parts.month, 2, at: 5)
            put(parts.day, 2, at: 8)
            put(parts.hour, 2, at: 11)
            put(parts.minute, 2, at: 14)
            put(parts.second, 2, at: 17)
            put(parts.millisecond, 3, at: 20)
            for (offset, byte) in [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (19, "."), (23, "Z")] as [(Int, Unicode.Scalar)] {
                buffer[offset] = UInt8(ascii: byte)
            }
            return 24
        }
    }

    /// `2026-12-02T03:13:34Z`: to the second.
    public static func seconds(from date: Date) -> String {
        let parts = Parts(date, offsetSeconds: 0)
        return "\(digits(parts.year, 4))-\(digits(parts.month, 2))-\(digits(parts.day, 2))T\(digits(parts.hour, 2)):\(digits(parts.minute, 2)):\(digits(parts.second, 2))Z"
    }

    /// `03:13:34.164`, the time of day `offsetSeconds` east of UTC.
    public static func timeOfDay(_ date: Date, offsetSeconds: Int = 0) -> String {
        clock(Parts(date, offsetSeconds: offsetSeconds))
    }

    /// `2026-12-02`, the day `offsetSeconds` east of UTC.
    public static func day(_ date: Date, offsetSeconds: Int = 0) -> String {
        let parts = Parts(date, offsetSeconds: offsetSeconds)
        return "\(digits(parts.year, 4))-\(digits(parts.month, 2))-\(digits(parts.day, 2))"
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil for anything else.
    public static func date(from text: String) -> Date? {
        var reader = Reader(bytes: Array(text.utf8))
        guard let year = reader.number(4), reader.skip(UInt8(ascii: "-")), let month = reader.number(2), reader.skip(UInt8(ascii: "-")),
              let day = reader.number(2), reader.skip(UInt8(ascii: "T")) || reader.skip(UInt8(ascii: "t")),
              let hour = reader.number(2), reader.skip(UInt8(ascii: ":")), let minute = reader.number(2), reader.skip(UInt8(ascii: ":")),
              let second = reader.number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        if reader.skip(UInt8(ascii: ".")) {
            var numerator = 0
            var denominator = 1
            while let digit = reader.digit() {
                // Past nanoseconds a digit changes nothing a Date can hold.
                guard denominator < 1_000_000_000 else { continue }
                numerator = numerator * 10 + digit
                denominator *= 10
            }
            guard denominator > 1 else { return nil }
            fraction = Double(numerator) / Double(denominator)
        }
        var offset = 0
        if reader.skip(UInt8(ascii: "Z")) || reader.skip(UInt8(ascii: "z")) {
        } else if let sign = reader.sign(), let hours = reader.number(2), reader.skip(UInt8(ascii: ":")), let minutes = reader.number(2) {
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard reader.atEnd else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private struct Parts {
        var year, month, day, hour, minute, second, millisecond: Int

        init(_ date: Date, offsetSeconds: Int) {
            // To the nearest millisecond, as Foundation's formatters have it.
            let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded()) + offsetSeconds * 1000
            let (days, inDay) = milliseconds.floorDivided(by: 86_400_000)
            (year, month, day) = civilFromDays(days)
            hour = inDay / 3_600_000
            minute = inDay / 60_000 % 60
            second = inDay / 1000 % 60
            millisecond = inDay % 1000
        }
    }

    private static func clock(_ parts: Parts) -> String {
        "\(digits(parts.hour, 2)):\(digits(parts.minute, 2)):\(digits(parts.second, 2)).\(digits(parts.millisecond, 3))"
    }

    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
    /// algorithm: eras of 400 years, years starting in March so the leap day comes last).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func skip(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func digit() -> Int? {
            guard position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else { return nil }
            position += 1
            return Int(bytes[position - 1] - UInt8(ascii: "0"))
        }

        mutating func number(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func sign() -> Int? {
            if skip(UInt8(ascii: "+")) { return 1 }
            if skip(UInt8(ascii: "-")) { return -1 }
            return nil
        }
    }
}

private extension Int {
    /// Quotient and remainder rounded toward negative infinity: times before 1970 still fall in the right day.
    func floorDivided(by divisor: Int) -> (quotient: Int, remainder: Int) {
        let quotient = self >= 0 ? self / divisor : (self - divisor + 1) / divisor
        return (quotient, self - quotient * divisor)
    }
}
