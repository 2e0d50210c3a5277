import Foundation

/// What an earlier, interrupted attempt of a run left behind, rebuilt from its journal: the
/// items that ended (they are not run again) and the items that were running when it died.
public struct ResumeState: Sendable {
    public struct Key: Hashable, Sendable {
        public var step: String
        public var index: Int

        public init(step: String, index: Int) {
            self.step = step
            self.index = index
        }
    }

    public struct Finished: Sendable {
        /// The item's label when it ran: restored only if the fan-out gives the same one again.
        public var label: String
        public var outcome: ItemOutcome

        public init(label: String, outcome: ItemOutcome) {
            self.label = label
            self.outcome = outcome
        }
    }

    public var finished: [Key: Finished]
    /// Items that sent a command that may change a host and have no recorded end: whether that
    /// change happened is unknown until their `verify` check (or the operator) says.
    public var inFlight: [Key: String]
    /// Approvals given in earlier attempts (they stand), so the summary names who gave them.
    public var approvals: [RunSummary.ApprovalRecord]
    /// When the run first started: recovery time counts from there, down-time included.
    public var runStarted: Date?

    public init(finished: [Key: Finished] = [:], inFlight: [Key: String] = [:], approvals: [RunSummary.ApprovalRecord] = [], runStarted: Date? = nil) {
        self.finished = finished
        self.inFlight = inFlight
        self.approvals = approvals
        self.runStarted = runStarted
    }

    /// Whether an item that ended this way counts as done on resume. Failures, denials, items
    /// stopped at an approval or skipped because of them run again.
    public static func keeps(_ outcome: ItemOutcome) -> Bool {
        switch outcome.status {
        case .succeeded, .alreadyDone, .failedContinued: return true
        case .skipped: return outcome.skippedByItsCondition
        default: return false
        }
    }
}

/// The question asked about an in-flight item whose step has no `verify` check.
public struct InFlightQuestion: Sendable {
    public var stepID: String
    public var item: String
    public var host: String
}

public enum InFlightDecision: Sendable, Equatable {
    /// The operator checked: its change happened. It is recorded as done, not run again.
    case done(by: String)
    /// The operator checked: its change did not happen. It runs again.
    case runAgain(by: String)
    /// Nobody can answer here: the run stops at this item.
    case unavailable
}
