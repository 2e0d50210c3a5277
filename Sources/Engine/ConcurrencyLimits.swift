import Foundation

/// A counting semaphore for async code: callers beyond the limit wait in FIFO order.
actor AsyncLimiter {
    private let limit: Int
    private var inUse = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func acquire() async {
        if inUse < limit {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            // The slot passes straight to the next waiter.
            waiters.removeFirst().resume()
        }
    }
}

/// The global limit and one limit per host, acquired around every command.
final class ConcurrencyLimits: Sendable {
    private let global: AsyncLimiter
    private let perHost: [String: AsyncLimiter]
    private let fallback: AsyncLimiter

    init(maxParallel: Int, maxPerHost: Int, hosts: [String]) {
        global = AsyncLimiter(limit: maxParallel)
        perHost = Dictionary(uniqueKeysWithValues: Set(hosts).map { ($0, AsyncLimiter(limit: maxPerHost)) })
        fallback = AsyncLimiter(limit: maxPerHost)
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
