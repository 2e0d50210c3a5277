import DrctlCore
import Foundation

/// A counting semaphore for async code: callers beyond the limit wait in FIFO order.
///
/// A waiter gives up its clock token while it waits, and the releaser takes one for it before
/// handing over the slot: in virtual time, the clock moves on while items queue for a host whose
/// slots are all busy with commands sleeping on the clock (else time would stand still for good).
actor AsyncLimiter {
    private let limit: Int
    private let clock: any RunClock
    private var inUse = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int, clock: any RunClock) {
        self.limit = max(1, limit)
        self.clock = clock
    }

    func acquire() async {
        if inUse < limit {
            inUse += 1
            return
        }
        clock.leave()
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            // The slot passes straight to the next waiter, with a clock token for it.
            clock.enter()
            waiters.removeFirst().resume()
        }
    }
}

/// The global limit and one limit per host, acquired around every command.
final class ConcurrencyLimits: Sendable {
    private let global: AsyncLimiter
    private let perHost: [String: AsyncLimiter]
    private let fallback: AsyncLimiter

    init(maxParallel: Int, maxPerHost: Int, hosts: [String], clock: any RunClock = SystemClock()) {
        global = AsyncLimiter(limit: maxParallel, clock: clock)
        perHost = Dictionary(uniqueKeysWithValues: Set(hosts).map { ($0, AsyncLimiter(limit: maxPerHost, clock: clock)) })
        fallback = AsyncLimiter(limit: maxPerHost, clock: clock)
    }

    /// Runs `body` holding a slot on `host` (when given) and a global slot. Host first, then
    /// global, always in that order, so waiting can never deadlock.
    func withSlot<T: Sendable>(host: String?, _ body: () async throws -> T) async throws -> T {
        let hostLimiter = host.map { perHost[$0] ?? fallback }
        await hostLimiter?.acquire()
        await global.acquire()
        do {
            let result = try await body()
            await release(hostLimiter)
            return result
        } catch {
            await release(hostLimiter)
            throw error
        }
    }

    private func release(_ hostLimiter: AsyncLimiter?) async {
        await global.release()
        await hostLimiter?.release()
    }
}
