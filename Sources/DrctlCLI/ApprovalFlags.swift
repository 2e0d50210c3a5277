import ArgumentParser
import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat

/// Who approves, and how: `--approve STEP` grants named approvals in advance, `--auto-approve`
/// grants all of them but only in drills, and the rest are asked at the terminal.
struct ApprovalFlags: ParsableArguments {
    @Option(name: .customLong("approve"), help: "Approve this approval step in advance (repeatable); recorded as pre-approved, with your account.")
    var approvedSteps: [String] = []

    @Flag(help: "Drills only: approve every approval gate, recorded as such. On real runs use --approve STEP.")
    var autoApprove = false

    @Option(name: .customLong("operator"), help: "Your name as you want it on record, beside your OS account (which is always recorded).")
    var givenName: String?

    /// The gate for run `runID` of `runbook`, or exit 2 for an unknown step or `--auto-approve` on a
    /// run that reaches real hosts. `startedBy`: the person who started the run.
    func gate(for runbook: Runbook, drill: Bool, runID: String, runsDirectory: String,
              startedBy: String = OperatorIdentity.current.person) throws -> any ApprovalGate {
        let approvals = runbook.steps.filter { if case .approval = $0.kind { return true } else { return false } }.map(\.id)
        let unknown = approvedSteps.filter { !approvals.contains($0) }
        if !unknown.isEmpty {
            throw failInvalidInput(unknown.map { "--approve \($0): \(runbook.file) has no approval step '\($0)'"
                + "\(Suggestion.hint(for: $0, among: approvals)) (its approvals: \(approvals.isEmpty ? "none" : approvals.joined(separator: ", ")))" })
        }
        if autoApprove && !drill {
            throw failInvalidInput(["--auto-approve is for drills: on a run that reaches real hosts, approve at the prompt, or in advance with "
                + (approvals.isEmpty ? "--approve STEP" : approvals.map { "--approve \($0)" }.joined(separator: " "))])
        }
        let approver = TerminalApprovalGate.loginName
        let others: any ApprovalGate = autoApprove
            ? AutoApproveGate(approver: approver, reason: "--auto-approve (drill)")
            : InboxApprovalGate(inbox: ApprovalInbox(runID: runID, in: runsDirectory), startedBy: startedBy,
                                terminal: TerminalApprovalGate.forThisProcess(runID: runID, startedBy: startedBy))
        return approvedSteps.isEmpty ? others : PreApprovedGate(steps: Set(approvedSteps), approver: approver, others: others)
    }

    /// The safety-relevant flags given, for the run's first line.
    var recorded: [String] {
        (autoApprove ? ["--auto-approve"] : []) + approvedSteps.map { "--approve \($0)" }
    }
}
