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
    /// Whether this is a drill's virtual time (`VirtualClock`), where time moves only when all
    /// work waits on the clock.
    var isVirtual: Bool { get }
    /// A task starts working (virtual time stands still until it leaves or sleeps).
    func enter()
    func leave()
}

extension RunClock {
    /// The calendar date now, by this clock.
    public func date() -> Date { date(at: elapsed) }

    /// Whole milliseconds since the clock started.
    public var milliseconds: Int { Int(elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000) }

    /// Runs `bodies` concurrently and returns their results in the order they finish. Each child
    /// works under a token of its own; the caller gives up its token while it waits and takes
    /// over each finisher's, so virtual time moves only when every one of them sleeps. Once a
    /// result satisfies `stopsTheRest`, the others are cancelled (and waited for).
    public func gather<T: Sendable>(_ bodies: [@Sendable () async -> T], stopsTheRest: (@Sendable (T) -> Bool)? = nil) async -> [T] {
        guard !bodies.isEmpty else { return [] }
        return await withTaskGroup(of: T.self) { group in
            for body in bodies {
                enter()
                group.addTask(operation: body)
            }
            leave()
            var results: [T] = []
            var remaining = bodies.count
            while let result = await group.next() {
                remaining -= 1
                // The others are stopped before time may move: a cancelled sleeper wakes now.
                if let stopsTheRest, stopsTheRest(result) { group.cancelAll() }
                // This task now holds the finisher's token: kept only for going on after the last.
                if remaining > 0 { leave() }
                results.append(result)
            }
            return results
        }
    }
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

    public var isVirtual: Bool { false }
    public func enter() {}
    public func leave() {}
}
