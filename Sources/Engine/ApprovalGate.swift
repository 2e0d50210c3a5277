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
}

public enum ApprovalDecision: Sendable, Equatable {
    case approved(by: String, reason: String)
    case denied(by: String, reason: String)
    /// Nobody can answer here: the run stops at this gate.
    case unavailable
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
