import DrctlCore
import Foundation
import RunbookFormat

/// One fan-out item of a step (index 0 with an empty label when the step does not fan out).
public struct ItemRef: Sendable, Hashable {
    public var index: Int
    public var label: String

    public init(index: Int, label: String) {
        self.index = index
        self.label = label
    }

    public static let single = ItemRef(index: 0, label: "")
}

/// What the engine reports while it runs, in order. Observers (the console, later the journal)
/// are awaited before the engine goes on, so an event is recorded before its action proceeds.
public enum RunEvent: Sendable {
    case runStarted(runbook: String, dryRun: Bool, params: [String: Value])
    /// A resume of an interrupted run: how many items it keeps, which were in flight.
    case runResumed(runbook: String, restored: Int, inFlight: [String])
    /// A step's items became known (its fan-out list was read): how many it has.
    case stepExpanded(step: String, items: Int)
    case itemStarted(step: String, item: ItemRef)
    case commandSent(step: String, item: ItemRef, host: String, command: String, mutates: Bool)
    case commandFinished(step: String, item: ItemRef, host: String, command: String, result: CommandResult)
    case commandFailed(step: String, item: ItemRef, host: String, command: String, error: String)
    case retrying(step: String, item: ItemRef, nextAttempt: Int, delay: Duration, reason: String)
    case alreadyDone(step: String, item: ItemRef, host: String)
    /// How an item in flight when the run died was settled: by its verify check or the operator.
    case inFlightSettled(step: String, item: ItemRef, host: String, detail: String)
    /// A probe from drctl itself (no host runs anything): what it found.
    case probed(step: String, item: ItemRef, target: String, state: String, detail: String)
    /// One check of a wait: whether `until` held, what the check gave, and the wait's deadline.
    case waitChecked(step: String, item: ItemRef, host: String?, check: Int, holds: Bool, detail: String, deadline: Date)
    /// The question, with what the approver is shown (`label: value` lines of `show:`) and, per
    /// host, the commands the approval unlocks: the evidence, on record.
    case approvalRequested(step: String, prompt: String, shown: [String], unlocks: [String])
    case approvalDecided(step: String, decision: ApprovalDecision)
    case planned(PlanEntry)
    /// A transport event: connected (with the host key fingerprint used), dropped, reconnected.
    case connection(host: String, detail: String)
    case itemFinished(step: String, item: ItemRef, outcome: ItemOutcome)
    /// The run stopped with work left (Ctrl-C, an unanswered approval): `drctl resume` goes on.
    case runPaused(reason: String)
    case runEnded(RunSummary)
}

public protocol RunObserver: Sendable {
    func record(_ event: RunEvent) async
    /// Why the run's record can no longer be written (a full disk), or nil. Nothing may change a
    /// host once it cannot be recorded.
    func recordLost() async -> String?
}

extension RunObserver {
    public func recordLost() async -> String? { nil }
}

/// A step item as a dry-run shows it: what would run, where, behind which approval.
public struct PlanEntry: Sendable, Equatable {
    public var sequence: Int
    public var step: String
    public var title: String
    public var kind: String
    public var item: ItemRef
    public var host: String?
    /// Commands in the order they would be sent (for a probe or approval, what it checks or asks).
    public var lines: [String]
    /// Approvals this entry waits behind.
    public var behindApprovals: [String]
    /// Why it is conditional, unexpanded or skipped, when it is.
    public var note: String?
    public var mutates: Bool
    /// True when a read-only step really ran during the dry-run.
    public var executed: Bool
}

/// How one item of a step ended.
public struct ItemOutcome: Sendable, Equatable {
    public enum Status: String, Sendable {
        case succeeded
        /// Its effect already existed (its verify check passed), so nothing was changed.
        case alreadyDone = "already-done"
        case failed
        /// Failed, but `on_failure: continue` lets its dependents run.
        case failedContinued = "failed-continued"
        case skipped
        case awaitingApproval = "awaiting-approval"
        case denied
        case notStarted = "not-started"
        case planned
    }

    public var status: Status
    public var hosts: [String]
    public var started: Date?
    public var duration: Duration
    public var attempts: Int
    /// Why it failed or was skipped.
    public var reason: String?
    /// The output that shows why, for failures.
    public var evidence: String?
    public var outputs: [String: Value]

    public init(status: Status, hosts: [String], started: Date?, duration: Duration, attempts: Int, reason: String?, evidence: String?,
                outputs: [String: Value]) {
        self.status = status
        self.hosts = hosts
        self.started = started
        self.duration = duration
        self.attempts = attempts
        self.reason = reason
        self.evidence = evidence
        self.outputs = outputs
    }

    public var isSuccess: Bool { status == .succeeded || status == .alreadyDone }
    /// Whether steps that need this item may run.
    public var satisfiesDependents: Bool { isSuccess || status == .failedContinued || status == .planned || skippedByItsCondition }

    /// Left out by its own `when:`: not needed, which is no failure. The rule's text is kept as
    /// evidence, the reason is for people (`skipped_because:`); journals from before kept the
    /// rule as the reason.
    public var skippedByItsCondition: Bool {
        status == .skipped && (evidence?.hasPrefix("when:") == true || reason?.hasPrefix("when:") == true)
    }

    /// A skip by `when:`: `reason` in people's words, the rule as evidence.
    public static func skippedByCondition(_ reason: String, rule: String) -> ItemOutcome {
        ItemOutcome(status: .skipped, hosts: [], started: nil, duration: .zero, attempts: 0, reason: reason, evidence: "when: \(rule) is false", outputs: [:])
    }
}
