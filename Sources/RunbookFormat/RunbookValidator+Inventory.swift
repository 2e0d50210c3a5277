import DrctlCore
import Foundation

extension RunbookValidator {
    /// Hosts a runbook names literally (`on: esxi-01`, `on: [esxi-01, esxi-02]`) must be in the
    /// inventory it runs with: a typo is bad input, found before anything runs, not a step that
    /// fails halfway through an incident. Hosts computed from expressions are checked when the step runs.
    public static func checkHosts(of runbook: Runbook, against inventory: Inventory) -> [Diagnostic] {
        let known = inventory.hosts.map(\.name)
        return runbook.steps.flatMap { step -> [Diagnostic] in
            guard let on = step.on else { return [] }
            return literalHostNames(on.template).filter { !known.contains($0) }.map { name in
                Diagnostic(on.location, "step '\(step.id)' runs on host '\(name)', which is not in the inventory\(Suggestion.hint(for: name, among: known)): add it there or fix the name")
            }
        }
    }

    /// The names of `on:` when it is written out (plain text or a list of quoted names), else none.
    static func literalHostNames(_ template: Template) -> [String] {
        if template.expressions.isEmpty { return [template.source.trimmingBlanks()] }
        guard case .list(let items)? = template.soleExpression else { return [] }
        let names = items.compactMap { item -> String? in
            if case .literal(let value) = item { return value.text }
            return nil
        }
        return names.count == items.count ? names : []
    }
}
