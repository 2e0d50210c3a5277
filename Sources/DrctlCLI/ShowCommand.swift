import ArgumentParser
import DrctlCore
import Foundation
import RunbookFormat

/// `drctl show RUNBOOK`: what an operator needs before running a runbook: its params, its steps in
/// order (which change hosts, which are fan-outs) and the approvals it will ask.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a runbook's params, steps and approvals, before running it.",
        discussion: HelpText.unwrapped("""
        Example:
          drctl show Runbooks/host-failure.yaml
        """)
    )

    @Argument(help: "The runbook file.", completion: Completion.yamlFile) var runbook: String

    func run() throws {
        let loaded: Runbook
        do { loaded = try RunbookLoader.load(path: runbook) } catch let invalid as InvalidInput {
            throw failInvalidInput(invalid.diagnostics.map(\.description))
        }
        print("\(loaded.name)\(loaded.title.isEmpty ? "" : ": \(loaded.title)")")
        if !loaded.description.isEmpty { print(loaded.description.trimmingWhitespace()) }
        if let rto = loaded.rto { print("RTO target: \(DurationText.format(rto))") }
        print("\nParams (--param name=value):")
        if loaded.params.isEmpty { print("  (none)") }
        for param in loaded.params {
            let need = param.required ? "required" : "optional" + (param.defaultValue.map { ", default \($0.text.isEmpty ? "empty" : $0.text)" } ?? "")
            print("  \(param.name) (\(param.kind.rawValue), \(need))\(param.description.isEmpty ? "" : ": \(param.description)")")
        }
        print("\nSteps, in order:")
        for step in loaded.steps {
            var notes: [String] = [step.kind.name]
            if case .action(let call) = step.kind { notes[0] = "action \(call.name)" }
            if step.mutates { notes.append("changes hosts") }
            if let foreach = step.foreach { notes.append("for each of \(foreach.template.source)") }
            if !step.needs.isEmpty { notes.append("after \(step.needs.joined(separator: ", "))") }
            print("  \(step.id)\(step.title.isEmpty ? "" : " — \(step.title)") [\(notes.joined(separator: "; "))]")
        }
        let approvals = loaded.steps.compactMap { step -> String? in
            guard case .approval(let approval) = step.kind else { return nil }
            var rules: [String] = []
            if step.handOff != nil { rules.append("a manual step, asked as done?") }
            if !approval.approvers.isEmpty { rules.append("approvers: \(approval.approvers.joined(separator: ", "))") }
            if approval.distinctFromOperator { rules.append("not by who started the run") }
            if let timeout = approval.timeout { rules.append("on_timeout \(approval.onTimeout.rawValue) after \(DurationText.format(timeout))") }
            return "  \(step.id): \(approval.prompt.template.source)" + (rules.isEmpty ? "" : " (\(rules.joined(separator: "; ")))")
        }
        print("\nApprovals it asks (approve in advance with --approve STEP):")
        print(approvals.isEmpty ? "  (none)" : approvals.joined(separator: "\n"))
    }
}
