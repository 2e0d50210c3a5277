import DrctlCore
import Foundation
import Testing

@Suite("journal timestamps")
struct TimestampTests {
    /// A fixed generator: the same 5,000 instants on every run.
    private func instants() -> [Date] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<5000).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // From 1901 to 2099, to the microsecond: leap years, century years and before 1970.
            let microseconds = Int64(bitPattern: state >> 1) % 6_279_000_000_000_000 - 2_177_000_000_000_000
            return Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
        }
    }

    @Test("writes what Foundation's ISO 8601 formatter writes, and reads it back to the millisecond")
    func matchesFoundation() {
        let foundation = ISO8601DateFormatter()
        foundation.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for date in instants() {
            let written = Timestamp.string(from: date)
            #expect(written == foundation.string(from: date), "\(date.timeIntervalSince1970)")
            let read = Timestamp.date(from: written)
            #expect(read.map { abs($0.timeIntervalSince(date)) < 0.001 } == true, "\(written)")
            #expect(read.map(Timestamp.string(from:)) == written, "a time read back is written the same")
        }
    }

    @Test("the time of day and the day in a zone east or west of UTC, as DateFormatter shows them")
    func zones() {
        for zone in ["Asia/Kolkata", "America/New_York", "UTC"] {
            let timeZone = TimeZone(identifier: zone)!
            let clock = DateFormatter()
            clock.dateFormat = "HH:mm:ss.SSS"
            clock.timeZone = timeZone
            let day = DateFormatter()
            day.dateFormat = "yyyy-MM-dd"
            day.timeZone = timeZone
            for date in instants().prefix(500) {
                let offset = timeZone.secondsFromGMT(for: date)
                #expect(Timestamp.timeOfDay(date, offsetSeconds: offset) == clock.string(from: date), "\(zone) \(date)")
                #expect(Timestamp.day(date, offsetSeconds: offset) == day.string(from: date), "\(zone) \(date)")
            }
        }
    }

    @Test("reads offsets, other precisions and lower-case letters; refuses what is not RFC 3339")
    func readsVariants() {
        let base = Timestamp.date(from: "2026-12-02T03:13:34.164Z")!
        #expect(Timestamp.date(from: "2026-12-02T05:13:34.164+02:00") == base)
        #expect(Timestamp.date(from: "2026-12-01T22:13:34.164-05:00") == base)
        #expect(Timestamp.date(from: "2026-12-02t03:13:34.164z") == base)
        #expect(Timestamp.date(from: "2026-12-02T03:13:34Z") == Date(timeIntervalSince1970: 1_796_181_214))
        #expect(Timestamp.seconds(from: base) == "2026-12-02T03:13:34Z")
        #expect(Timestamp.date(from: "2026-12-02T03:13:34.123456789123Z").map(Timestamp.string(from:)) == "2026-12-02T03:13:34.123Z")
        for bad in ["", "2026-12-02", "2026-12-02T03:13:34", "2026-13-02T03:13:34Z", "2026-12-02T24:00:00Z",
                    "2026-12-02T03:13:34.Z", "2026-12-02T03:13:34Z trailing", "2026-12-02 03:13:34Z", "２026-12-02T03:13:34Z"] {
            #expect(Timestamp.date(from: bad) == nil, "\(bad)")
        }
    }
}

@Suite("fixed decimals")
struct FixedDecimalsTests {
    @Test("writes what printf's %.Nf writes, up to the last digit near a rounding tie")
    func matchesPrintf() {
        var state: UInt64 = 42
        for _ in 0..<5000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = Double(Int64(bitPattern: state) % 100_000_000) / 997
            for places in [0, 1, 3] {
                let ours = value.fixed(places), printf = String(format: "%.\(places)f", value)
                #expect(abs(Double(ours)! - Double(printf)!) <= 1.01 / pow(10, Double(places)), "\(value) with \(places) places")
            }
        }
        #expect(2.5.fixed(1) == "2.5" && 0.25.fixed(1) == "0.2" && 1234.5678.fixed(3) == "1234.568" && 7.0.fixed(0) == "7")
        #expect((-3.14159).fixed(2) == "-3.14" && 0.05.fixed(3) == "0.050" && 1e20.fixed(1) == String(format: "%.1f", 1e20))
    }
}
