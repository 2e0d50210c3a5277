import DrctlCore
import Engine
import Foundation

/// Where a run stands, kept from its events: what the status area and heartbeat lines show.
/// Events arrive on the engine's tasks; the status area reads a snapshot from its own thread.
final class RunProgress: RunObserver, @unchecked Sendable {
    struct RunningCommand: Equatable {
        var step: String
        var item: String
        /// As sent: matches the command's end.
        var command: String
        /// As shown: masked and made visible.
        var shown: String
        var since: Date
    }

    struct Waiting: Equatable {
        var step: String
        var item: String
        var host: String?
        var checks: Int
        var lastCheck: Date
        var lastResult: String
        var deadline: Date
    }

    struct Snapshot {
        var started: Date
        var rto: Duration?
        var stepsTotal: Int
        var stepsDone: Int
        var itemsDone: Int
        /// Items of the steps whose fan-out is known; later steps add theirs as they expand.
        var itemsKnown: Int
        var failed: Int
        /// Per host, in the order hosts first ran something.
        var running: [(host: String, commands: [RunningCommand])]
        var waits: [Waiting]
        var approvals: [String]
    }

    private let lock = NSLock()
    private let stepsTotal: Int
    private let rto: Duration?
    private let started: Date
    /// The run's clock: in a drill's virtual time, commands run and waits end by it, not by the wall.
    let clock: any RunClock
    private var itemsPerStep: [String: Int] = [:]
    private var finishedPerStep: [String: Int] = [:]
    private var failed = 0
    private var hostOrder: [String] = []
    private var running: [String: [RunningCommand]] = [:]
    private var waits: [WaitKey: Waiting] = [:]

    /// A wait item checks on each of its hosts: one line each.
    private struct WaitKey: Hashable {
        var step: String
        var index: Int
        var host: String?
    }
    private var approvals: [String] = []

    /// Commands and check results are shown as the console shows them: secrets masked, control
    /// characters visible.
    private let redactor: Redactor

    init(stepsTotal: Int, rto: Duration?, started: Date, clock: any RunClock = SystemClock(), redactor: Redactor = Redactor()) {
        self.redactor = redactor
        self.clock = clock
        self.stepsTotal = stepsTotal
        self.rto = rto
        self.started = started
    }

    func record(_ event: RunEvent) async { take(event, at: clock.date()) }

    /// Synchronous, for tests that feed events in a chosen order.
    func take(_ event: RunEvent, at now: Date) {
        lock.withLock {
            switch event {
            case .stepExpanded(let step, let items):
                itemsPerStep[step] = items
            case .commandSent(let step, let item, let host, let command, _):
                if running[host] == nil, !hostOrder.contains(host) { hostOrder.append(host) }
                running[host, default: []].append(RunningCommand(step: step, item: item.label, command: command, shown: shown(command), since: now))
            case .commandFinished(let step, let item, let host, let command, _), .commandFailed(let step, let item, let host, let command, _):
                if let index = running[host]?.firstIndex(where: { $0.step == step && $0.item == item.label && $0.command == command }) {
                    running[host]?.remove(at: index)
                }
            case .waitChecked(let step, let item, let host, let check, let holds, let detail, let deadline):
                let key = WaitKey(step: step, index: item.index, host: host)
                if holds { waits[key] = nil } else {
                    waits[key] = Waiting(step: step, item: item.label, host: host, checks: check, lastCheck: now, lastResult: shown(detail), deadline: deadline)
                }
            case .approvalRequested(let step, _, _, _):
                approvals.append(step)
            case .approvalDecided(let step, _):
                approvals.removeAll { $0 == step }
            case .itemFinished(let step, let item, let outcome):
                waits = waits.filter { $0.key.step != step || $0.key.index != item.index }
                finishedPerStep[step, default: 0] += 1
                if outcome.status == .failed || outcome.status == .denied { failed += 1 }
            default:
                break
            }
        }
    }

    private func shown(_ text: String) -> String { VisibleText.escape(redactor.redact(text)) }

    func snapshot() -> Snapshot {
        lock.withLock {
            let done = itemsPerStep.filter { step, count in finishedPerStep[step, default: 0] >= count }.count
            return Snapshot(started: started, rto: rto, stepsTotal: stepsTotal, stepsDone: done,
                            itemsDone: finishedPerStep.values.reduce(0, +), itemsKnown: max(itemsPerStep.values.reduce(0, +), finishedPerStep.values.reduce(0, +)),
                            failed: failed,
                            running: hostOrder.compactMap { host in running[host].flatMap { $0.isEmpty ? nil : (host, $0) } },
                            waits: waits.values.sorted { ($0.step, $0.item, $0.host ?? "") < ($1.step, $1.item, $1.host ?? "") }, approvals: approvals)
        }
    }
}
