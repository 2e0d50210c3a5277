import ArgumentParser
import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat

/// What `drctl approve` and `drctl deny` share: the checks against the run's record and runbook,
/// then the decision left in the run's inbox (`ApprovalInbox`).
struct RemoteDecision: ParsableArguments {
    @Argument(help: "The run id (see drctl runs).", completion: Completion.runID) var runID: String
    @Argument(help: "The approval step to decide.") var step: String
    @Option(name: .customLong("operator"), help: "Your name as you want it on record, beside your OS account.") var givenName: String?
    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory

    func post(approve: Bool, reason: String) throws {
        let directory: RunDirectory
        do { directory = try RunDirectory.existing(id: runID, in: runsDir) } catch { throw failInvalidInput(["drctl \(verb(approve)): \(error)"]) }
        guard let journal = RecordedJournal.load(run: runID, in: runsDir),
              let start = journal.entries.first(where: { $0["type"] as? String == "run-started" }) else {
            throw failInvalidInput(["drctl \(verb(approve)): cannot read the journal of run \(runID)"])
        }
        let approvals = ((start["steps"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "approval" }.compactMap { $0["id"] as? String }
        guard approvals.contains(step) else {
            throw failInvalidInput(["drctl \(verb(approve)): run \(runID) has no approval step '\(step)'\(Suggestion.hint(for: step, among: approvals))"
                + " (its approvals: \(approvals.isEmpty ? "none" : approvals.joined(separator: ", ")))"])
        }
        if let ended = journal.entries.last(where: { $0["type"] as? String == "run-ended" })?["outcome"] as? String,
           !["interrupted", "stopped at an approval", "stopped: its record could not be written"].contains(ended) {
            throw failInvalidInput(["drctl \(verb(approve)): run \(runID) is over (\(ended)); nothing waits for a decision"])
        }
        if let decided = journal.entries.last(where: { ["approval-given", "approval-denied"].contains($0["type"] as? String ?? "") && $0["step"] as? String == step }) {
            throw failInvalidInput(["drctl \(verb(approve)): \(step) of run \(runID) was already \(decided["type"] as? String == "approval-given" ? "approved" : "denied") by \(decided["by"] ?? "?")"])
        }
        let identity = OperatorIdentity.current
        if approve, let why = try rules(start).whyNot(approve: identity.person) {
            throw failInvalidInput(["drctl approve: refused: \(why)"])
        }
        do {
            try ApprovalInbox(run: directory).post(.init(step: step, approve: approve, identity: identity, givenName: givenName, reason: reason))
        } catch {
            throw failInvalidInput(["drctl \(verb(approve)): \(error)"])
        }
        print("\(step) of run \(runID): \(approve ? "approved" : "denied") by \(identity)\(reason.isEmpty ? "" : " (\(reason))").")
        print("A run waiting at this approval takes it within a second. If the run has stopped, go on with: drctl resume \(runID)"
              + (runsDir == "runs" ? "" : " --runs-dir \(runsDir)"))
    }

    /// Who may approve, from the runbook the run started with.
    private func rules(_ start: [String: Any]) throws -> ApprovalRules {
        let file = start["runbook_file"] as? String ?? ""
        let runbook: Runbook
        do { runbook = try RunbookLoader.load(path: file) } catch {
            throw failInvalidInput(["drctl approve: cannot read the run's runbook \(file) to check who may approve: \(error)"])
        }
        guard let step = runbook.step(step), case .approval(let approval) = step.kind else { return ApprovalRules() }
        return ApprovalRules(approvers: approval.approvers, distinctFromOperator: approval.distinctFromOperator,
                                    startedBy: start["operator_person"] as? String ?? start["operator"] as? String ?? "")
    }

    private func verb(_ approve: Bool) -> String { approve ? "approve" : "deny" }
}
