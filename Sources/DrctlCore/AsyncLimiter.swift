import Foundation

/// A counting semaphore for async code. In real time, callers beyond the limit wait in FIFO order.
///
/// In virtual time (`VirtualClock`) a waiter gives up its clock token, and slots are handed out
/// only when no task works, lowest rank first (the step's place in the runbook, then the item):
/// tasks due at one instant reach the limiter in any order, and the same drill must run the same
/// way every time (the same seed, the same predicted times).
public final class AsyncLimiter: IdleGate, @unchecked Sendable {
    /// Who goes first when several wait: the step's place in the runbook, the item, the host.
    public struct Rank: Comparable, Sendable {
        public var step: Int
        public var item: Int
        public var host: String

        public init(step: Int, item: Int, host: String) {
            self.step = step
            self.item = item
            self.host = host
        }

        public static func < (a: Rank, b: Rank) -> Bool { (a.step, a.item, a.host) < (b.step, b.item, b.host) }

        /// Sorts as the rank does, as text: for ranks made of other ranks.
        public var sortKey: String {
            let step = String(step + 1_000_000), item = String(item + 1_000_000_000)
            return "\(step)/\(item)/\(host)"
        }
    }

    /// The rank of the work this task does (set by the engine around each attempt): the simulator
    /// orders identical commands sent to one host at one instant by it, so that which item's
    /// `getallvms` answers first does not depend on thread timing.
    @TaskLocal public static var currentRank: Rank?

    private struct Waiter {
        var rank: Rank
        var continuation: CheckedContinuation<Void, Never>
    }

    private let limit: Int
    private let virtual: VirtualClock?
    private let lock = NSLock()
    /// The gate's number at the virtual clock.
    private let gateNumber: Int
    private var inUse = 0
    /// In real time, in arrival order. In virtual time, highest rank first, so that the lowest is
    /// taken from the end.
    private var waiters: [Waiter] = []

    public init(limit: Int, clock: any RunClock) {
        self.limit = max(1, limit)
        virtual = clock as? VirtualClock
        gateNumber = virtual?.registerGate() ?? 0
    }

    public func acquire(rank: Rank) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = lock.withLock { () -> Bool in
                if virtual == nil, inUse < limit {
                    inUse += 1
                    return true
                }
                let waiter = Waiter(rank: rank, continuation: continuation)
                if virtual == nil {
                    waiters.append(waiter)
                } else {
                    waiters.insert(waiter, at: waiters.partitioningIndex { !(rank < $0.rank) })
                }
                return false
            }
            if now { return continuation.resume() }
            virtual?.leave(toWaitIn: self, number: gateNumber)
        }
    }

    public func release() {
        let next = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            // Real time: the slot passes straight to the next waiter.
            if virtual == nil, !waiters.isEmpty { return waiters.removeFirst().continuation }
            inUse -= 1
            return nil
        }
        next?.resume()
    }

    /// Virtual time, called by the clock (its lock held) when no task works: the free slots go to
    /// the lowest-ranked waiters, each given a clock token by the clock.
    public func releaseAtIdle() -> (released: [CheckedContinuation<Void, Never>], stillWaiting: Bool) {
        lock.withLock {
            var granted: [CheckedContinuation<Void, Never>] = []
            while inUse < limit, let lowest = waiters.popLast() {
                inUse += 1
                granted.append(lowest.continuation)
            }
            return (granted, !waiters.isEmpty)
        }
    }
}
