import DrctlCore
import RunbookFormat

/// `ensure:`: what a step's outputs must establish before anything that needs it goes on.
extension StepRunner {
    /// `ensure:`: a step whose outputs do not establish what the run needs fails, with the
    /// runbook's words. In a dry-run a value not known yet cannot break it.
    func check(_ ensure: Ensure, _ work: ItemWork, _ outcome: inout ItemOutcome) {
        var roots = work.roots
        roots["result"] = .map(outcome.outputs)
        let scope = DictionaryScope(roots)
        do {
            guard try ExpressionEvaluator.condition(ensure.that.expression, in: scope) == false else { return }
            outcome.reason = try ensure.message.template.value(in: scope).text
        } catch {
            if outcome.status == .planned { return }
            outcome.reason = "ensure: \(error)"
        }
        outcome.status = .failed
    }
}
