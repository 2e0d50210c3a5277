import Foundation

/// Virtual time for drills: a discrete-event simulation. Time stands still while any task of the
/// run is working (journaling, evaluating, asking a person); when every one of them is asleep on
/// this clock, it jumps to the earliest deadline and wakes whoever is due then. A 15-minute wait
/// then takes as long as the work around it, not 15 minutes.
///
/// It knows who is working by tokens: a task holds one while it works. The engine hands one to
/// each task it starts (`enter` before starting it) and gives up its own while it waits for them
/// (`leave`); a task asleep here gives its token back until it wakes. A child that ends hands its
/// token to the parent that collects its result (`RunClock.gather`), so time never moves between
/// a child's end and its parent going on.
public final class VirtualClock: RunClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: Duration = .zero
    private let origin: Date
    private var working = 1  // the task that made the clock
    private var sleepers: [Sleeper] = []
    private var nextOrder = 0

    private struct Sleeper {
        var deadline: Duration
        var order: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    /// `origin`: the calendar date at virtual time zero (a drill starts at the real date).
    public init(origin: Date = Date()) {
        self.origin = origin
    }

    public var isVirtual: Bool { true }

    public var elapsed: Duration { lock.withLock { now } }

    public func date(at elapsed: Duration) -> Date { origin.addingTimeInterval(elapsed.seconds) }

    public func enter() {
        lock.withLock { working += 1 }
    }

    public func leave() {
        let due = lock.withLock { () -> [Sleeper] in
            working -= 1
            return advanceIfIdle()
        }
        wake(due)
    }

    public func sleep(for duration: Duration) async throws {
        let order = lock.withLock { () -> Int in
            nextOrder += 1
            return nextOrder
        }
        let onTime = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                // Cancelled before it slept: it keeps its token and goes on at once.
                if Task.isCancelled { return continuation.resume(returning: false) }
                let due = lock.withLock { () -> [Sleeper] in
                    sleepers.append(Sleeper(deadline: now + max(.zero, duration), order: order, continuation: continuation))
                    working -= 1
                    return advanceIfIdle()
                }
                wake(due)
            }
        } onCancel: {
            // Woken early, holding its token again: it goes on (and throws) at once.
            let cancelled = lock.withLock { () -> Sleeper? in
                guard let index = sleepers.firstIndex(where: { $0.order == order }) else { return nil }
                working += 1
                return sleepers.remove(at: index)
            }
            cancelled?.continuation.resume(returning: false)
        }
        if !onTime { throw CancellationError() }
    }

    /// Called with the lock held: when nobody works and someone sleeps, time jumps to the first
    /// deadline; the sleepers due then get their tokens back and are returned, to be woken.
    private func advanceIfIdle() -> [Sleeper] {
        guard working == 0, let first = sleepers.min(by: { ($0.deadline, $0.order) < ($1.deadline, $1.order) }) else { return [] }
        now = max(now, first.deadline)
        let due = sleepers.filter { $0.deadline <= now }.sorted { $0.order < $1.order }
        sleepers.removeAll { $0.deadline <= now }
        working += due.count
        return due
    }

    private func wake(_ due: [Sleeper]) {
        for sleeper in due { sleeper.continuation.resume(returning: true) }
    }
}
