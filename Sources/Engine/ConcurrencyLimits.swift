import DrctlCore
import Foundation

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
    /// global, always in that order, so waiting can never deadlock. `rank` orders waiters in
    /// virtual time.
    func withSlot<T: Sendable>(host: String?, rank: AsyncLimiter.Rank, _ body: () async throws -> T) async throws -> T {
        let hostLimiter = host.map { perHost[$0] ?? fallback }
        await hostLimiter?.acquire(rank: rank)
        await global.acquire(rank: rank)
        do {
            let result = try await AsyncLimiter.$currentRank.withValue(rank) { try await body() }
            await release(hostLimiter)
            return result
        } catch {
            await release(hostLimiter)
            throw error
        }
    }

    private func release(_ hostLimiter: AsyncLimiter?) async {
        global.release()
        hostLimiter?.release()
    }
}
