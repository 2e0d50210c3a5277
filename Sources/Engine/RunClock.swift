import Foundation

/// The engine's time. Every timeout, retry delay, wait interval and deadline, approval timeout,
/// settle time and duration the engine measures is read from here, never from the system clock
/// directly: a real run uses `SystemClock`; a drill can run in virtual time with a clock that
/// jumps to the next deadline (issue 14).
public protocol RunClock: Sendable {
    /// Time since the clock started: what deadlines and durations are measured in.
    var elapsed: Duration { get }
    /// Sleeps; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
    /// The calendar date at `elapsed`, for records.
    func date(at elapsed: Duration) -> Date
}

extension RunClock {
    /// The calendar date now, by this clock.
    public func date() -> Date { date(at: elapsed) }
}

/// Real time: the continuous clock, dated by the system's calendar clock when it started.
public struct SystemClock: RunClock {
    private let origin = ContinuousClock.now
    private let originDate = Date()

    public init() {}

    public var elapsed: Duration { ContinuousClock.now - origin }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }

    public func date(at elapsed: Duration) -> Date {
        originDate.addingTimeInterval(elapsed.seconds)
    }
}
