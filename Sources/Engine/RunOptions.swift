import Foundation

/// How a run behaves, from the CLI's flags.
public struct RunOptions: Sendable {
    public var dryRun: Bool
    /// With `dryRun`: connect to nothing; discovery results stay as `{{ templates }}`.
    public var offline: Bool
    /// `--max-parallel` / `--max-per-host`; nil keeps the runbook's value or the default.
    public var maxParallel: Int?
    public var maxPerHost: Int?
    /// A step's per-attempt timeout when it sets none.
    public var defaultTimeout: Duration
    public var probeTimeout: Duration
    public var runID: String

    public static let defaultMaxParallel = 32
    /// ESXi's sshd accepts 10 unauthenticated connections at once (MaxStartups 10:30:100); stay well under.
    public static let defaultMaxPerHost = 4

    public init(dryRun: Bool = false, offline: Bool = false, maxParallel: Int? = nil, maxPerHost: Int? = nil,
                defaultTimeout: Duration = .seconds(600), probeTimeout: Duration = .seconds(10), runID: String = "") {
        self.dryRun = dryRun
        self.offline = offline
        self.maxParallel = maxParallel
        self.maxPerHost = maxPerHost
        self.defaultTimeout = defaultTimeout
        self.probeTimeout = probeTimeout
        self.runID = runID
    }
}

/// Set from a signal handler, read by the scheduler: no new work starts once it is set.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    public init() {}

    public func request() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    public var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
}

struct TimeoutError: Error {}

/// Runs `body` but gives up after `limit`. The body keeps running detached if it ignores
/// cancellation (a blocking C call), so the caller is never held past the limit.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let gate = ResumeOnce()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
        let work = Task {
            do {
                let value = try await body()
                if gate.claim() { continuation.resume(returning: value) }
            } catch {
                if gate.claim() { continuation.resume(throwing: error) }
            }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            if gate.claim() {
                work.cancel()
                continuation.resume(throwing: TimeoutError())
            }
        }
        gate.onClaim { timer.cancel() }
    }
}

private final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    private var cleanup: (() -> Void)?

    func claim() -> Bool {
        lock.lock()
        if claimed {
            lock.unlock()
            return false
        }
        claimed = true
        let action = cleanup
        lock.unlock()
        action?()
        return true
    }

    func onClaim(_ action: @escaping () -> Void) {
        lock.lock()
        if claimed {
            lock.unlock()
            action()
            return
        }
        cleanup = action
        lock.unlock()
    }
}
