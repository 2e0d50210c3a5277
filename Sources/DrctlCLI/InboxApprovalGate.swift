import DrctlCore
import Engine
import Foundation
import Journal

/// Takes the decisions left with `drctl approve` and `drctl deny` (`ApprovalInbox`) while the
/// question is also open at the terminal: the first answer counts, and a decision from elsewhere
/// closes the question on screen. Without a terminal, a decision already left is taken; otherwise
/// the run stops at the gate (exit 3) and `drctl resume` takes it later.
struct InboxApprovalGate: ApprovalGate {
    let inbox: ApprovalInbox
    /// The person who started the run, for `distinct_from_operator`.
    let startedBy: String
    let terminal: any ApprovalGate
    /// How often the inbox is looked at while someone may answer: well within a second.
    static let pollInterval: Duration = .milliseconds(250)

    func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        let rules = ApprovalRules(approvers: request.approvers, distinctFromOperator: request.distinctFromOperator, startedBy: startedBy)
        if let taken = take(request.stepID, rules) { return taken }
        return await withTaskGroup(of: ApprovalDecision?.self) { group in
            group.addTask { await terminal.decide(request) }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.pollInterval)
                    if let taken = take(request.stepID, rules) { return taken }
                }
                return nil
            }
            var decision = ApprovalDecision.unavailable
            for await answer in group {
                guard let answer else { continue }
                decision = answer
                break
            }
            group.cancelAll()
            return decision
        }
    }

    func decideFailure(_ request: FailureQuestion) async -> FailureDecision { await terminal.decideFailure(request) }
    func decideInFlight(_ question: InFlightQuestion) async -> InFlightDecision { await terminal.decideInFlight(question) }

    /// The decision left for `step`, if the person who left it may take it; one who may not is
    /// told on screen and their file removed, so the right person can decide.
    private func take(_ step: String, _ rules: ApprovalRules) -> ApprovalDecision? {
        guard let left = inbox.decision(for: step) else { return nil }
        if left.approve, let why = rules.whyNot(approve: left.person) {
            inbox.withdraw(step: step)
            print("  ! \(step): the approval left by \(left.by) is not taken: \(why)")
            return nil
        }
        let by = left.by + (left.givenName.map { " [\($0)]" } ?? "") + " via drctl \(left.approve ? "approve" : "deny")"
        print("  ! \(step): \(left.approve ? "approved" : "denied") by \(by)" + (left.reason.isEmpty ? "" : " (\(left.reason))"))
        return left.approve ? .approved(by: by, reason: left.reason) : .denied(by: by, reason: left.reason)
    }
}
