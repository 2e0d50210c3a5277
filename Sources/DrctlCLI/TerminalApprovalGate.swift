import DrctlCore
import Engine
import Foundation

/// Asks approvals on the terminal, one at a time, and records who answered (the OS account,
/// `OperatorIdentity`) and why. Ctrl-C or the end of input at a question decides nothing: the run
/// stops (exit 130) and asks again when resumed.
actor TerminalApprovalGate: ApprovalGate {
    private let operatorName: String
    private let runID: String
    private let startedBy: String

    init(operatorName: String, runID: String, startedBy: String) {
        self.operatorName = operatorName
        self.runID = runID
        self.startedBy = startedBy
    }

    /// Who is at the keyboard: the OS account (and who ran sudo), never `$USER`.
    static var loginName: String { OperatorIdentity.current.description }

    /// A gate for this process: the terminal when there is one, otherwise stop at approvals.
    static func forThisProcess(runID: String, startedBy: String) -> any ApprovalGate {
        isatty(STDIN_FILENO) == 1 ? TerminalApprovalGate(operatorName: loginName, runID: runID, startedBy: startedBy) : NonInteractiveGate()
    }

    static let choices = "Approve? y = yes, n = no, d = details, ? = what these mean: "
    /// A manual step (a restore done outside drctl) is confirmed, not approved.
    static let manualChoices = "Done? y = yes, it is done; n = no, it cannot be; d = details, ? = what these mean: "
    static let help = """
        y (yes)      approve: the steps behind this approval go ahead; you may give a reason.
        n (no)       deny: the steps behind it do not run; you are asked why.
        d (details)  per host, the commands this approval unlocks.
        Ctrl-C       stop the run here without deciding; `drctl resume` asks again.
        Your answer is recorded with your account (\(OperatorIdentity.current)).

        """

    func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        var text = "\n=== APPROVAL NEEDED: \(request.stepID)\(request.title.isEmpty ? "" : " — \(request.title)") ===\n\(request.prompt)\n"
        for (label, value) in request.evidence { text += "  \(label): \(value)\n" }
        let question = text
        let details = request.unlocks.isEmpty ? "This approval unlocks no command that changes a host.\n"
            : "Commands this approval unlocks, per host (values known only later are shown as written):\n"
                + request.unlocks.map { "  " + $0 + "\n" }.joined()
        let approver = operatorName
        let me = OperatorIdentity.current
        let rules = ApprovalRules(approvers: request.approvers, distinctFromOperator: request.distinctFromOperator, startedBy: startedBy)
        let barred = rules.whyNot(approve: me.person).map {
            "You cannot approve this here: \($0).\nSomeone who may types: drctl approve \(runID) \(request.stepID) --reason TEXT\n"
                + "(this prompt takes their decision within a second; you may still deny).\n"
        }
        let choices = request.isManualStep ? Self.manualChoices : Self.choices
        return await TerminalPrompt.shared.dialog { ask in
            var next = question + (barred ?? "") + choices
            while true {
                guard let answer = ask(next) else { return .interrupted }
                switch answer.lowercased() {
                case "y", "yes":
                    if let barred {
                        next = barred + choices
                        continue
                    }
                    guard let reason = ask(request.isManualStep ? "What was done (optional, recorded): " : "Reason (optional, recorded with your approval): ") else { return .interrupted }
                    return .approved(by: approver, reason: reason)
                case "n", "no":
                    var reason = ""
                    while reason.isEmpty {
                        guard let given = ask(request.isManualStep ? "Why can it not be done? (recorded): " : "Why deny? (recorded with your denial): ") else { return .interrupted }
                        reason = given
                    }
                    return .denied(by: approver, reason: reason)
                case "d", "details":
                    next = details + choices
                case "?", "h", "help":
                    next = Self.help + choices
                default:
                    next = "Please answer y, n or d (? explains). " + choices
                }
            }
        }
    }

    func decideFailure(_ request: FailureQuestion) async -> FailureDecision {
        let question = "\n=== STEP FAILED: \(request.stepID) [\(request.item)] after \(request.attempts) attempt(s) ===\n\(request.error)\n"
            + "Type r to retry, c to continue without it, anything else to abort: "
        return await TerminalPrompt.shared.dialog { ask in
            switch ask(question)?.lowercased() {
            case "r", "retry": return .retry
            case "c", "continue": return .continue
            default: return .abort
            }
        }
    }
}

extension TerminalApprovalGate {
    func decideInFlight(_ question: InFlightQuestion) async -> InFlightDecision {
        let text = "\n=== IN FLIGHT WHEN THE RUN STOPPED: \(question.stepID)\(question.item.isEmpty ? "" : " [\(question.item)]") on \(question.host) ===\n"
            + "It had sent a command that changes the host, and it has no verify check. Check the host, then\n"
            + "type 'done' if its change happened, 'again' to run it again, anything else to stop here: "
        let approver = operatorName
        return await TerminalPrompt.shared.dialog { ask in
            switch ask(text)?.lowercased() {
            case "done": return .done(by: approver)
            case "again": return .runAgain(by: approver)
            default: return .unavailable
            }
        }
    }
}
