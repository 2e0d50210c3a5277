import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// One attempt of an item on a host, within its time: the read timeout, silent hosts, and what
/// Ctrl-C does to commands still running.
extension StepRunner {
    /// Each attempt's time: the step's `timeout:`, else the read timeout for a step that cannot
    /// change a host (short: a hung host must not cost minutes per step), else the run's default.
    func attemptLimit(_ step: Step) -> Duration {
        if let timeout = step.timeout { return timeout }
        return changesHosts(step) ? options.defaultTimeout : runbook.limits.readTimeout ?? inventory.readTimeout ?? options.readTimeout
    }

    /// Whether the step may change a host: a changing step, or a wait whose check changes one (a rescan).
    func changesHosts(_ step: Step) -> Bool {
        if step.mutates { return true }
        if case .wait(let wait) = step.kind, case .action(let call) = wait.check { return ActionCatalog.action(named: call.name)?.mutates ?? true }
        if case .wait(let wait) = step.kind, case .run = wait.check { return true }
        return false
    }

    func attemptOnce(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> Result<[String: Value], AttemptFailure> {
        let limit = attemptLimit(work.step)
        let outcome = await attemptWithin(limit, work, host: host, scope: scope)
        switch outcome {
        case .success: silentHosts.answered(host.name)
        case .failure(let failure) where failure.timedOut && !changesHosts(work.step):
            silentHosts.markSilent(host.name, because: "it did not answer a read (step \(work.step.id)) within \(DurationText.format(limit))")
        default: break
        }
        return outcome
    }

    private func attemptWithin(_ limit: Duration, _ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> Result<[String: Value], AttemptFailure> {
        do {
            let outputs = try await limits.withSlot(host: host.name, rank: rank(work, host: host.name)) {
                // A wait lasts as long as its own timeout says; the step's limit bounds each check.
                if case .wait = work.step.kind { return try await self.perform(work, host: host, scope: scope) }
                return try await self.withinLimit(limit) { try await self.perform(work, host: host, scope: scope) }
            }
            return .success(outputs)
        } catch let timeout as TimeoutError where timeout.abandonedAtStop {
            await transport.abandonRunningCommands()
            // Nobody waits out a hung command after Ctrl-C: it is left in flight, and a resume
            // settles it (a change through its verify check) before anything is sent again.
            return .failure(AttemptFailure(reason: "abandoned \(DurationText.format(options.stopGrace)) after the stop, still running on \(host.name): "
                                           + "a resume checks whether it took effect", uncertain: work.step.mutates, stillRunning: true,
                                           interrupted: true, noAnswer: true))
        } catch let timeout as TimeoutError {
            // Journaled as failed; a change may still be under way on the host, so nothing assumes it did not happen.
            let still = timeout.stillRunning ? "; it is still running there, so it is not tried again" : "; it may still take effect on the host"
            return .failure(AttemptFailure(reason: "timed out after \(DurationText.format(limit)) on \(host.name)\(still) (raise the step's timeout: if the host is slow)",
                                           uncertain: work.step.mutates, stillRunning: timeout.stillRunning, noAnswer: true, timedOut: true))
        } catch let failure as AttemptFailure {
            return .failure(failure)
        } catch let error as TransportError {
            // A run step's command that timed out or lost its session may have made its change.
            return .failure(AttemptFailure(reason: "\(error)", uncertain: [.sessionDropped, .commandTimedOut].contains(error.kind) && work.step.mutates,
                                           noAnswer: true, timedOut: error.kind == .commandTimedOut))
        } catch {
            return .failure(AttemptFailure(reason: "\(error)"))
        }
    }

    /// Runs an attempt, or one check of a wait, within the step's per-attempt limit: the transport
    /// ends its command at the limit; drctl stops waiting a moment later.
    func withinLimit<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await AttemptDeadline.$current.withValue(AttemptDeadline(at: options.clock.elapsed + limit, clock: options.clock)) {
            try await withTimeout(limit + .seconds(2), on: options.clock, stop: stop, stopGrace: options.stopGrace, body)
        }
    }
}
