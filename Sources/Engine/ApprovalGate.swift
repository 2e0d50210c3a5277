import Foundation

/// Decides approvals and failed steps marked `on_failure: ask`. The CLI prompts on a terminal;
/// drills approve automatically; without either the run stops at the gate (exit 3).
public protocol ApprovalGate: Sendable {
    func decide(_ request: ApprovalRequest) async -> ApprovalDecision
    func decideFailure(_ request: FailureQuestion) async -> FailureDecision
    /// On resume: did the change of an item that was running when the run died happen?
    func decideInFlight(_ question: InFlightQuestion) async -> InFlightDecision
}

extension ApprovalGate {
    /// Only a person who checked the host can say; gates without one stop the run there.
    public func decideInFlight(_ question: InFlightQuestion) async -> InFlightDecision { .unavailable }
}

public struct ApprovalRequest: Sendable {
    public var stepID: String
    public var title: String
    public var prompt: String
    /// Labelled evidence to show before asking.
    public var evidence: [(label: String, value: String)]
    /// Per host, the commands that change hosts behind this approval, as far as they can be
    /// written now (`details` at the prompt).
    public var unlocks: [String] = []
    /// Who may approve (`startedBy` is filled in by the gate, which knows the run).
    public var approvers: [String] = []
    public var distinctFromOperator = false
    /// Manual work done outside drctl (`hand_off:`, a restore from backup): asked as "done?".
    public var isManualStep = false
}

public enum ApprovalDecision: Sendable, Equatable {
    case approved(by: String, reason: String)
    case denied(by: String, reason: String)
    /// Nobody can answer here: the run stops at this gate.
    case unavailable
    /// The person at the prompt interrupted (Ctrl-C, end of input): no decision; the run stops
    /// and asks again when resumed.
    case interrupted
}

public struct FailureQuestion: Sendable {
    public var stepID: String
    public var item: String
    public var error: String
    public var attempts: Int
}

public enum FailureDecision: Sendable, Equatable {
    case retry
    case `continue`
    case abort
}

/// Stops at every gate: for runs nobody watches.
public struct NonInteractiveGate: ApprovalGate {
    public init() {}
    public func decide(_ request: ApprovalRequest) async -> ApprovalDecision { .unavailable }
    public func decideFailure(_ request: FailureQuestion) async -> FailureDecision { .abort }
}

/// Approves everything, recording who asked for that (`--auto-approve`, drills).
public struct AutoApproveGate: ApprovalGate {
    public var approver: String
    public var reason: String
    public init(approver: String, reason: String = "--auto-approve") {
        self.approver = approver
        self.reason = reason
    }
    public func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        .approved(by: approver, reason: reason)
    }
    public func decideFailure(_ request: FailureQuestion) async -> FailureDecision { .abort }
}

/// Approvals granted on the command line (`--approve STEP`): recorded as such, with the account
/// that gave them; every other question goes to `others`.
public struct PreApprovedGate: ApprovalGate {
    public var steps: Set<String>
    public var approver: String
    public var others: any ApprovalGate

    public init(steps: Set<String>, approver: String, others: any ApprovalGate) {
        self.steps = steps
        self.approver = approver
        self.others = others
    }

    public func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        guard steps.contains(request.stepID) else { return await others.decide(request) }
        return .approved(by: approver, reason: "pre-approved with --approve \(request.stepID)")
    }

    public func decideFailure(_ request: FailureQuestion) async -> FailureDecision { await others.decideFailure(request) }
    public func decideInFlight(_ question: InFlightQuestion) async -> InFlightDecision { await others.decideInFlight(question) }
}

/// Who may decide an approval (`approvers:`, `distinct_from_operator:`). People are OS account
/// names; through sudo, the one who ran it.
public struct ApprovalRules: Sendable, Equatable {
    public var approvers: [String]
    public var distinctFromOperator: Bool
    /// The person who started the run.
    public var startedBy: String

    public init(approvers: [String] = [], distinctFromOperator: Bool = false, startedBy: String = "") {
        self.approvers = approvers
        self.distinctFromOperator = distinctFromOperator
        self.startedBy = startedBy
    }

    /// Why `person` may not approve, or nil. Anyone may deny: stopping is always allowed.
    public func whyNot(approve person: String) -> String? {
        if !approvers.isEmpty, !approvers.contains(person) {
            return "\(person) is not among its approvers (\(approvers.joined(separator: ", ")))"
        }
        if distinctFromOperator, person == startedBy {
            return "\(person) started this run, and this approval needs a second person (distinct_from_operator)"
        }
        return nil
    }
}
