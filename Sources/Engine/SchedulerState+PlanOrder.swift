/// The order a dry-run's plan is printed in. Items that run side by side reach the plan in whatever
/// order their tasks happen to run, so two dry-runs of the same runbook used to list them
/// differently. The plan is listed instead in an order that depends on the runbook and its items
/// alone: each step after every step it needs (steps that need nothing of each other in the
/// runbook's order), the items of an ordered step by priority group and after the VMs they depend
/// on, then by their place in the fan-out, and one item's hosts in the inventory's order.
extension SchedulerState {
    /// The plan, listed in rank order and numbered again; entries of one item on one host keep
    /// the order the item made them in.
    func listed(_ plan: [PlanEntry]) -> [PlanEntry] {
        var levels: [String: Int] = [:]
        // One item's hosts in the inventory's order, as the operator wrote them.
        let hostOrder = Dictionary(inventory.hosts.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let ranked = plan.enumerated().map { offset, entry in
            (rank: planRank(step: entry.step, index: entry.item.index, levels: &levels), host: entry.host ?? "",
             hostPlace: entry.host.flatMap { hostOrder[$0] } ?? Int.max, offset: offset, entry: entry)
        }
        let sorted = ranked.sorted { a, b in
            if a.rank != b.rank { return a.rank.lexicographicallyPrecedes(b.rank) }
            if a.hostPlace != b.hostPlace { return a.hostPlace < b.hostPlace }
            if a.host != b.host { return a.host < b.host }
            return a.offset < b.offset
        }
        return sorted.enumerated().map { position, ranked in
            var entry = ranked.entry
            entry.sequence = position + 1
            return entry
        }
    }

    /// Sorts as the plan is listed (compared with `lexicographicallyPrecedes`).
    private func planRank(step id: String, index: Int, levels: inout [String: Int]) -> [Int] {
        let level = stepLevel(id, &levels, visiting: [])
        // Steps of the same level, which need nothing of each other, in the runbook's order.
        let place = order.firstIndex(of: id) ?? order.count
        guard let state = states[id], state.isOrdered, state.refs.indices.contains(index) else { return [level, place, 0, 0, index] }
        let group = state.step.order == .priority && state.priorities.indices.contains(index) ? state.priorities[index] : 0
        return [level, place, group, dependencyDepth(state, index, visiting: []), index]
    }

    /// 0 for a step that needs nothing, else one more than the deepest step it needs or follows.
    private func stepLevel(_ id: String, _ levels: inout [String: Int], visiting: Set<String>) -> Int {
        if let known = levels[id] { return known }
        guard let step = states[id]?.step, !visiting.contains(id) else { return 0 }
        var level = 0
        for earlier in step.needs + step.after { level = max(level, stepLevel(earlier, &levels, visiting: visiting.union([id])) + 1) }
        levels[id] = level
        return level
    }

    /// How many VMs of the same step stand before this one in a chain of `depends_on`.
    private func dependencyDepth(_ state: StepState, _ index: Int, visiting: Set<Int>) -> Int {
        guard state.dependencies.indices.contains(index), !visiting.contains(index) else { return 0 }
        var depth = 0
        for name in state.dependencies[index] {
            guard let other = state.indexByLabel[name], other != index else { continue }
            depth = max(depth, dependencyDepth(state, other, visiting: visiting.union([index])) + 1)
        }
        return depth
    }
}
