import DrctlCore
import RunbookFormat

/// What an item sees when it starts: the templates' roots (params, inventory, run, item, and the
/// outputs of the steps it needs) and the approvals it waits behind.
extension SchedulerState {
    func work(_ state: StepState, _ index: Int) -> ItemWork {
        let approvals = (ancestors[state.step.id] ?? []).filter { id in
            if case .approval = states[id]?.step.kind { return true }
            return false
        }.sorted()
        var work = ItemWork(step: state.step, item: state.refs[index], roots: roots(for: state, index: index), behindApprovals: approvals)
        work.followsPlannedChange = (ancestors[state.step.id] ?? []).contains { id in
            guard let ancestor = states[id], ancestor.step.mutates || isWaitStep(ancestor.step) else { return false }
            return ancestor.plannedCount > 0
        }
        return work
    }

    private func isWaitStep(_ step: Step) -> Bool {
        if case .wait = step.kind { return true }
        return false
    }

    /// What templates of this item may read: params, inventory, run, item, and the outputs of the
    /// steps it needs (the same item's when they fan out over the same list).
    func roots(for state: StepState, index: Int?) -> [String: Value] {
        var roots = baseRoots
        var stepsValue: [String: Value] = [:]
        for id in ancestors[state.step.id] ?? [] {
            guard let ancestor = states[id], ancestor.isExpanded else { continue }
            if let index, state.listKey != nil, ancestor.listKey == state.listKey, index < ancestor.outcomes.count,
               let outcome = ancestor.outcomes[index] {
                stepsValue[id] = .map(withDefaults(outcome.outputs, ancestor))
            } else if ancestor.isFinished {
                stepsValue[id] = .map(aggregate(ancestor))
            }
        }
        roots["steps"] = .map(stepsValue)
        if let index, let items = state.items, index < items.count, state.step.foreach != nil { roots["item"] = items[index] }
        return roots
    }

    /// Outputs of a skipped item read as null rather than as missing fields.
    func withDefaults(_ outputs: [String: Value], _ state: StepState) -> [String: Value] {
        var filled = outputs
        for name in state.step.outputNames where filled[name] == nil { filled[name] = .null }
        return filled
    }

    func aggregate(_ state: StepState) -> [String: Value] {
        if let cached = state.aggregated { return cached }
        let outcomes = state.outcomes.compactMap { $0 }
        var outputs = OutputAggregation.combine(outcomes.filter { $0.status != .skipped || state.step.foreach == nil }.map(\.outputs))
        outputs = withDefaults(outputs, state)
        outputs["status"] = .string(stepStatus(outcomes))
        if outcomes.contains(where: { $0.status == .planned }) {
            outputs["results"] = .unknown("steps.\(state.step.id).results")
            state.aggregated = outputs
            return outputs
        }
        outputs["results"] = .list(zip(state.refs, outcomes).map { ref, outcome in
            var fields = outcome.outputs
            fields["item"] = state.items.map { $0[ref.index] } ?? .null
            fields["label"] = .string(ref.label)
            fields["hosts"] = .list(outcome.hosts.map(Value.string))
            fields["status"] = .string(outcome.status.rawValue)
            fields["duration_ms"] = .int(Int(outcome.duration.milliseconds))
            return .map(fields)
        })
        state.aggregated = outputs
        return outputs
    }

    private func stepStatus(_ outcomes: [ItemOutcome]) -> String {
        if outcomes.contains(where: { $0.status == .failed || $0.status == .failedContinued }) { return "failed" }
        if !outcomes.isEmpty, outcomes.allSatisfy({ $0.status == .skipped }) { return "skipped" }
        if outcomes.contains(where: { $0.status == .planned }) { return "planned" }
        return "succeeded"
    }
}
