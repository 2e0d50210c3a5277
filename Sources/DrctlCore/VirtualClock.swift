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
    /// Called when no task works, before time may move: each returns the tasks it lets go on.
    private var idleHooks: [@Sendable () -> [CheckedContinuation<Void, Never>]] = []

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

    /// `hook` runs (with the clock's lock held: it must not call the clock) whenever no task
    /// works; the tasks it returns each get a token and go on at the same instant. The engine's
    /// concurrency limits hand out their slots this way, in a fixed order.
    public func onIdle(_ hook: @escaping @Sendable () -> [CheckedContinuation<Void, Never>]) {
        lock.withLock { idleHooks.append(hook) }
    }

    public func enter() {
        lock.withLock { working += 1 }
    }

    public func leave() {
        let due = lock.withLock { () -> Wakeup in
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
                let due = lock.withLock { () -> Wakeup in
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

    /// Who goes on when the clock wakes tasks: sleepers now due, and tasks an idle hook let go.
    private struct Wakeup {
        var sleepers: [Sleeper] = []
        var released: [CheckedContinuation<Void, Never>] = []
    }

    /// Called with the lock held: when nobody works, the idle hooks go first (no time passes);
    /// if none lets a task go and someone sleeps, time jumps to the first deadline, and the
    /// sleepers due then get their tokens back and are returned, to be woken.
    private func advanceIfIdle() -> Wakeup {
        guard working == 0 else { return Wakeup() }
        // Every hook at once: which one was registered first (the order hosts hash in) must not
        // decide who goes on first.
        let released = idleHooks.flatMap { $0() }
        if !released.isEmpty {
            working += released.count
            return Wakeup(released: released)
        }
        guard let first = sleepers.min(by: { ($0.deadline, $0.order) < ($1.deadline, $1.order) }) else { return Wakeup() }
        now = max(now, first.deadline)
        let due = sleepers.filter { $0.deadline <= now }.sorted { $0.order < $1.order }
        sleepers.removeAll { $0.deadline <= now }
        working += due.count
        return Wakeup(sleepers: due)
    }

    private func wake(_ due: Wakeup) {
        for continuation in due.released { continuation.resume() }
        for sleeper in due.sleepers { sleeper.continuation.resume(returning: true) }
    }
}
