import Engine
import Foundation

/// Asks approvals on the controlling terminal, one question at a time, and records who answered
/// (the login name) and why.
actor TerminalApprovalGate: ApprovalGate {
    private let operatorName: String

    init(operatorName: String) {
        self.operatorName = operatorName
    }

    /// A gate for this process: the terminal when there is one, otherwise stop at approvals.
    /// Who is at the keyboard: the login name, from the environment or the password database.
    static var loginName: String {
        if let name = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"], !name.isEmpty { return name }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    static func forThisProcess(autoApprove: Bool) -> any ApprovalGate {
        let name = loginName
        if autoApprove { return AutoApproveGate(approver: name) }
        if isatty(STDIN_FILENO) == 1 { return TerminalApprovalGate(operatorName: name) }
        return NonInteractiveGate()
    }

    func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        var text = "\n=== APPROVAL NEEDED: \(request.stepID)\(request.title.isEmpty ? "" : " — \(request.title)") ===\n\(request.prompt)\n"
        for (label, value) in request.evidence { text += "  \(label): \(value)\n" }
        text += "Type 'yes' to approve, anything else to deny: "
        print(text, terminator: "")
        fflush(nil)
        guard let answer = readLine() else { return .unavailable }
        if answer.trimmingCharacters(in: .whitespaces).lowercased() == "yes" {
            return .approved(by: operatorName, reason: reason())
        }
        return .denied(by: operatorName, reason: answer.trimmingCharacters(in: .whitespaces))
    }

    func decideFailure(_ request: FailureQuestion) async -> FailureDecision {
        print("\n=== STEP FAILED: \(request.stepID) [\(request.item)] after \(request.attempts) attempt(s) ===\n\(request.error)\n" +
              "Type r to retry, c to continue without it, anything else to abort: ", terminator: "")
        fflush(nil)
        switch readLine()?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "r", "retry": return .retry
        case "c", "continue": return .continue
        default: return .abort
        }
    }

    private func reason() -> String {
        print("Reason (optional, recorded with your approval): ", terminator: "")
        fflush(nil)
        return readLine()?.trimmingCharacters(in: .whitespaces) ?? ""
    }
}

extension TerminalApprovalGate {
    func decideInFlight(_ question: InFlightQuestion) async -> InFlightDecision {
        print("\n=== IN FLIGHT WHEN THE RUN STOPPED: \(question.stepID)\(question.item.isEmpty ? "" : " [\(question.item)]") on \(question.host) ===\n" +
              "It had sent a command that changes the host, and it has no verify check. Check the host, then\n" +
              "type 'done' if its change happened, 'again' to run it again, anything else to stop here: ", terminator: "")
        fflush(nil)
        switch readLine()?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "done": return .done(by: operatorName)
        case "again": return .runAgain(by: operatorName)
        default: return .unavailable
        }
    }
}
