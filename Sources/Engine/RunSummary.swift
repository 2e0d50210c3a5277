import DrctlCore
import Foundation
import RunbookFormat

/// The result of a run: every step's items, the approvals taken and the exit code.
public struct RunSummary: Sendable {
    public enum Outcome: String, Sendable {
        /// The goal holds (or, for a runbook without one, every step succeeded).
        case succeeded
        /// Some of what the goal lists was recovered, some was not.
        case partial
        /// What was not recovered was left to a manual step (a restore from backup).
        case handedOff = "handed off"
        case failed
        case awaitingApproval = "stopped at an approval"
        case interrupted
        case planned = "planned (dry run)"
        /// A dry-run whose discovery failed: the plan does not show everything that would run.
        case planIncomplete = "plan incomplete (dry run)"
        /// The run's record could not be written (a full disk): it stopped before changing anything
        /// more, whatever the hosts now look like.
        case recordLost = "stopped: its record could not be written"

        /// The run is over: nothing is left for `drctl resume` (its host leases can go).
        public var isFinal: Bool { ![.interrupted, .awaitingApproval, .recordLost].contains(self) }
    }

    public struct StepResult: Sendable {
        public var id: String
        public var title: String
        public var items: [(item: ItemRef, outcome: ItemOutcome)]
    }

    public struct ApprovalRecord: Sendable, Equatable {
        public var step: String
        public var prompt: String
        public var decision: ApprovalDecision
        public var at: Date

        public init(step: String, prompt: String, decision: ApprovalDecision, at: Date) {
            self.step = step
            self.prompt = prompt
            self.decision = decision
            self.at = at
        }
    }

    public var runbook: String
    public var outcome: Outcome
    public var steps: [StepResult]
    public var approvals: [ApprovalRecord]
    public var plan: [PlanEntry]
    public var started: Date
    public var duration: Duration
    public var rto: Duration?
    /// The goal's verdict, checked against live state at the end (nil: no goal, or not checked).
    public var goal: GoalVerdict?
    /// Why the run's record could not be written, when it could not.
    public var recordLost: String?

    /// Met only when the goal holds within the target: a run that recovered less met nothing.
    public var rtoMet: Bool? {
        rto.map { outcome == .succeeded && duration <= $0 }
    }

    /// 0 succeeded, 1 failed (or an incomplete plan), 3 stopped at an approval, 4 partial,
    /// 5 handed off, 6 the record could not be written, 130 interrupted (2, invalid input, never gets this far). docs/cli.md lists them.
    public var exitCode: Int32 {
        switch outcome {
        case .succeeded, .planned: return 0
        case .failed, .planIncomplete: return 1
        case .awaitingApproval: return 3
        case .partial: return 4
        case .handedOff: return 5
        case .recordLost: return 6
        case .interrupted: return 130
        }
    }

    public func items(of step: String) -> [(item: ItemRef, outcome: ItemOutcome)] {
        steps.first { $0.id == step }?.items ?? []
    }

    public var failures: [(step: String, item: ItemRef, outcome: ItemOutcome)] {
        steps.flatMap { step in
            step.items.filter { $0.outcome.status == .failed || $0.outcome.status == .failedContinued || $0.outcome.status == .denied }
                .map { (step.id, $0.item, $0.outcome) }
        }
    }
}
