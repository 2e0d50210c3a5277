import DrctlCore
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
    /// The same for steps that only read: a host that hangs costs this, once (then it is left
    /// out of later reads). The inventory's `read_timeout`; a runbook's `limits.read_timeout` wins.
    public var readTimeout: Duration = .seconds(60)
    /// After Ctrl-C or SIGTERM, how long running commands get before they are abandoned.
    public var stopGrace: Duration = .seconds(10)
    public var probeTimeout: Duration
    public var runID: String
    /// How long a resume waits for in-flight changes of a dead process to land before checking
    /// again (nil: each action's own settle time; 10 s for run steps). Drills use a short one:
    /// their simulated hosts land late work by commands, not by time.
    public var settle: Duration?
    /// What the engine measures time with: real time unless a drill says otherwise.
    public var clock: any RunClock = SystemClock()

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
    private var abortedBy: String?

    public init() {}

    /// Stops the run as failed (an approval's `on_timeout: abort`), not paused.
    public func abort(_ reason: String) {
        lock.lock()
        stopped = true
        abortedBy = abortedBy ?? reason
        lock.unlock()
    }

    public var abortReason: String? {
        lock.lock()
        defer { lock.unlock() }
        return abortedBy
    }

    public func request() {
        lock.lock()
        stopped = true
        let handlers = onRequest
        onRequest = [:]
        lock.unlock()
        for handler in handlers.values { handler() }
    }

    private var onRequest: [UUID: @Sendable () -> Void] = [:]

    /// Calls `handler` once when a stop is requested (at once if one was); nil then. Otherwise
    /// a token for `forget`, when what it guards has ended.
    func whenRequested(_ handler: @escaping @Sendable () -> Void) -> UUID? {
        lock.lock()
        guard !stopped else {
            lock.unlock()
            handler()
            return nil
        }
        let id = UUID()
        onRequest[id] = handler
        lock.unlock()
        return id
    }

    func forget(_ id: UUID) {
        lock.lock()
        onRequest.removeValue(forKey: id)
        lock.unlock()
    }

    /// Sleeps between a wait's checks or before a retry, but wakes within a tenth of a second
    /// when the run is stopped: Ctrl-C does not sit out a 30-second interval.
    func pause(for duration: Duration, on clock: any RunClock) async {
        // Virtual time passes only when everything sleeps: one sleep, however long.
        if clock.isVirtual {
            try? await clock.sleep(for: duration)
            return
        }
        let end = clock.elapsed + duration
        while !isRequested {
            let left = end - clock.elapsed
            guard left > .zero else { return }
            try? await clock.sleep(for: min(left, .milliseconds(100)))
        }
    }

    public var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
}

struct TimeoutError: Error {
    /// The attempt did not end within the grace after it was cancelled: it may still be running.
    var stillRunning = false
    /// Given up on because the run was stopped (Ctrl-C, SIGTERM) and its grace ran out.
    var abandonedAtStop = false
}

/// Runs `body` but gives up after `limit`.
///
/// On timeout the work is cancelled and waited for, up to `grace`, so that a retry never overlaps
/// the attempt before it; `TimeoutError.stillRunning` says when it did not end within that.
/// With `stop`, a stop request shortens the limit to `stopGrace` from then: Ctrl-C and SIGTERM
/// never wait out a hung command's timeout.
func withTimeout<T: Sendable>(_ limit: Duration, grace: Duration = .seconds(10), on clock: any RunClock,
                              stop: StopSignal? = nil, stopGrace: Duration = .seconds(10),
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    // Simulated hosts know how long each command takes in virtual time and end it at the
    // attempt's deadline themselves (`AttemptDeadline`).
    if clock.isVirtual { return try await body() }
    let gate = ResumeOnce()
    let ended = EndSignal()
    let work = Task {
        defer { ended.fire() }
        return try await body()
    }
    let outcome: Result<T, Error> = await withCheckedContinuation { continuation in
        Task {
            do {
                let value = try await work.value
                if gate.claim() { continuation.resume(returning: .success(value)) }
            } catch {
                if gate.claim() { continuation.resume(returning: .failure(error)) }
            }
        }
        let timer = Task {
            try? await clock.sleep(for: limit)
            if gate.claim() {
                work.cancel()
                continuation.resume(returning: .failure(TimeoutError()))
            }
        }
        // A stop gives running work its grace, then gives up on it (no task unless one comes).
        let watch = stop?.whenRequested {
            Task {
                try? await clock.sleep(for: stopGrace)
                if gate.claim() {
                    work.cancel()
                    continuation.resume(returning: .failure(TimeoutError(abandonedAtStop: true)))
                }
            }
        }
        gate.onClaim {
            timer.cancel()
            if let watch { stop?.forget(watch) }
        }
    }
    if case .failure(let error) = outcome, let timeout = error as? TimeoutError {
        // Abandoned at a stop: no retry follows, so nothing waits for it to end.
        if timeout.abandonedAtStop { throw TimeoutError(stillRunning: true, abandonedAtStop: true) }
        throw TimeoutError(stillRunning: !(await ended.wait(upTo: grace, on: clock)))
    }
    return try outcome.get()
}

/// Fires once; waiting for it gives up after a while.
private final class EndSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func fire() {
        lock.lock()
        fired = true
        let ready = waiters
        waiters = []
        lock.unlock()
        for waiter in ready { waiter.resume() }
    }

    /// True when it fired within `limit`.
    func wait(upTo limit: Duration, on clock: any RunClock) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    self.lock.lock()
                    if self.fired {
                        self.lock.unlock()
                        continuation.resume()
                    } else {
                        self.waiters.append(continuation)
                        self.lock.unlock()
                    }
                }
                return true
            }
            group.addTask {
                try? await clock.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            if !first { self.fire() }  // frees the waiter left behind
            return first
        }
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
