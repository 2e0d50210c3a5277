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
    /// Latest deadline first, so that the next one due is popped from the end.
    private var sleepers: [Sleeper] = []
    private var nextOrder = 0
    /// Gates (concurrency limits) with tasks waiting in them, by when the gate was made: asked
    /// when no task works, before time may move, which of their waiters go on.
    private var waitingGates: [Int: any IdleGate] = [:]
    private var nextGate = 0

    private struct Sleeper {
        var deadline: Duration
        var order: Int
        var continuation: CheckedContinuation<Bool, Never>

        func isBefore(_ other: Sleeper) -> Bool { (deadline, order) < (other.deadline, other.order) }
    }

    /// `origin`: the calendar date at virtual time zero (a drill starts at the real date).
    public init(origin: Date = Date()) {
        self.origin = origin
    }

    public var isVirtual: Bool { true }

    public var elapsed: Duration { lock.withLock { now } }

    public func date(at elapsed: Duration) -> Date { origin.addingTimeInterval(elapsed.seconds) }

    /// A number for a new gate: gates are asked in this order.
    public func registerGate() -> Int {
        lock.withLock {
            nextGate += 1
            return nextGate
        }
    }

    /// A task gives up its token to wait in `gate`, which will be asked (the clock's lock held:
    /// it must not call the clock) whenever no task works, until it has no waiters left.
    public func leave(toWaitIn gate: any IdleGate, number: Int) {
        let due = lock.withLock { () -> Wakeup in
            waitingGates[number] = gate
            working -= 1
            return advanceIfIdle()
        }
        wake(due)
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
                    let sleeper = Sleeper(deadline: now + max(.zero, duration), order: order, continuation: continuation)
                    sleepers.insert(sleeper, at: sleepers.partitioningIndex { $0.isBefore(sleeper) })
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

    /// Sleeps until `duration` has passed or `wakeEarly(signal)` is called, whichever comes
    /// first; true when woken early. The simulator's blocked commands wait so for the fleet to
    /// change, instead of checking it every few milliseconds of virtual time.
    @discardableResult
    public func sleep(for duration: Duration, orUntil signal: EarlyWake) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            // Cancelled before it slept: it keeps its token and goes on at once.
            if Task.isCancelled { return continuation.resume(returning: false) }
            let due = lock.withLock { () -> Wakeup in
                nextOrder += 1
                signal.order = nextOrder
                let sleeper = Sleeper(deadline: now + max(.zero, duration), order: nextOrder, continuation: continuation)
                sleepers.insert(sleeper, at: sleepers.partitioningIndex { $0.isBefore(sleeper) })
                working -= 1
                return advanceIfIdle()
            }
            wake(due)
        } == false
    }

    /// Wakes the task asleep on `signal` now, if it still sleeps; it goes on with a token.
    public func wakeEarly(_ signal: EarlyWake) {
        let woken = lock.withLock { () -> Sleeper? in
            guard let order = signal.order, let index = sleepers.firstIndex(where: { $0.order == order }) else { return nil }
            signal.order = nil
            working += 1
            return sleepers.remove(at: index)
        }
        woken?.continuation.resume(returning: false)
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
        // Every gate at once: which one a task reached first must not decide who goes on first.
        var released: [CheckedContinuation<Void, Never>] = []
        for number in waitingGates.keys.sorted() {
            let (goOn, stillWaiting) = waitingGates[number]!.releaseAtIdle()
            released += goOn
            if !stillWaiting { waitingGates[number] = nil }
        }
        if !released.isEmpty {
            working += released.count
            return Wakeup(released: released)
        }
        guard let first = sleepers.last else { return Wakeup() }
        now = max(now, first.deadline)
        var due: [Sleeper] = []
        while let next = sleepers.last, next.deadline <= now { due.append(sleepers.removeLast()) }
        working += due.count
        return Wakeup(sleepers: due)
    }

    private func wake(_ due: Wakeup) {
        for continuation in due.released { continuation.resume() }
        for sleeper in due.sleepers { sleeper.continuation.resume(returning: true) }
    }
}

/// What a sleeper can be woken early by (`VirtualClock.sleep(for:orUntil:)`); guarded by the clock's lock.
public final class EarlyWake: @unchecked Sendable {
    fileprivate var order: Int?

    public init() {}
}

/// Something tasks wait in, in virtual time (a concurrency limit): asked by the clock when no
/// task works which waiters go on.
public protocol IdleGate: AnyObject {
    /// The waiters let go now, and whether any are left waiting.
    func releaseAtIdle() -> (released: [CheckedContinuation<Void, Never>], stillWaiting: Bool)
}

extension Array {
    /// The first index whose element satisfies `isAfter`, for an array already partitioned by it.
    func partitioningIndex(where isAfter: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if isAfter(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
