import DrctlCore
import Foundation
import RunbookFormat

/// The scheduler's bookkeeping: which items of which steps are known, running and settled, and
/// which can start now. Only the engine's loop touches it, so it needs no locking.
final class SchedulerState {
    final class StepState {
        let step: Step
        /// The fan-out list once known (one entry for steps that do not fan out).
        var items: [Value]?
        var refs: [ItemRef] = []
        private(set) var outcomes: [ItemOutcome?] = []
        var started: Set<Int> = []
        var priorities: [Int] = []
        var dependencies: [[String]] = []
        var aggregated: [String: Value]?
        /// The normalised foreach text: two steps with the same one fan out over the same list.
        let listKey: String?
        /// Items wait on each other (priority groups or VM dependencies), not only on other steps.
        var isOrdered = false

        init(step: Step) {
            self.step = step
            listKey = step.foreach.map { $0.template.source.filter { !$0.isWhitespace } }
        }

        /// Unfinished items per priority group, and the first item of each label: readiness is
        /// asked of every waiting item each time one ends, and scanning the whole fan-out there
        /// made a 2,000-VM power-on cubic.
        private(set) var pendingByPriority: [Int: Int] = [:]
        private(set) var indexByLabel: [String: Int] = [:]

        /// Items ended, and items planned (dry run): asked for every item that starts, so counted
        /// here rather than by scanning a 12,500-item fan-out each time.
        private(set) var endedCount = 0
        private(set) var plannedCount = 0

        func record(_ outcome: ItemOutcome, at index: Int) {
            if let previous = outcomes[index] {
                if previous.status == .planned { plannedCount -= 1 }
            } else {
                endedCount += 1
                if priorities.indices.contains(index) { pendingByPriority[priorities[index], default: 0] -= 1 }
            }
            if outcome.status == .planned { plannedCount += 1 }
            outcomes[index] = outcome
        }

        /// No item has ended yet: a fan-out of `count` items just became known.
        func clearOutcomes(count: Int) {
            outcomes = Array(repeating: nil, count: count)
            endedCount = 0
            plannedCount = 0
        }

        /// Call once the items, their refs and priorities are set.
        func indexItems() {
            pendingByPriority = Dictionary(priorities.map { ($0, 1) }, uniquingKeysWith: +)
            indexByLabel = Dictionary(refs.enumerated().map { ($1.label, $0) }, uniquingKeysWith: { first, _ in first })
        }

        var isExpanded: Bool { items != nil }
        var isFinished: Bool { isExpanded && endedCount == outcomes.count }
    }

    let inventory: Inventory
    let baseRoots: [String: Value]
    private(set) var states: [String: StepState] = [:]
    /// The steps in the runbook's order.
    let order: [String]
    let ancestors: [String: Set<String>]
    private let dependents: [String: [String]]
    private var settled: [(String, ItemRef, ItemOutcome)] = []
    /// Steps whose items became known since the last look, with how many: progress to show.
    private var expansions: [(step: String, items: Int)] = []
    /// What changed since the last look: a whole step to re-examine, or one settled item.
    private var changes: [Change]

    private enum Change {
        case step(String)
        case item(String, Int)
    }

    /// Items an interrupted attempt finished, set as soon as their step expands.
    private let restored: [ResumeState.Key: ResumeState.Finished]

    init(runbook: Runbook, inventory: Inventory, baseRoots: [String: Value], restored: [ResumeState.Key: ResumeState.Finished] = [:]) {
        self.inventory = inventory
        self.restored = restored
        self.baseRoots = baseRoots
        order = runbook.steps.map(\.id)
        ancestors = StepGraph.ancestors(of: runbook.steps)
        for step in runbook.steps { states[step.id] = StepState(step: step) }
        var dependents: [String: [String]] = [:]
        for step in runbook.steps { for need in step.needs + step.after { dependents[need, default: []].append(step.id) } }
        self.dependents = dependents
        changes = runbook.steps.reversed().map { .step($0.id) }
    }

    func item(_ stepID: String, _ index: Int) -> ItemRef { states[stepID]!.refs[index] }

    /// Items decided without running (skipped, not started), to report.
    func takeSettled() -> [(String, ItemRef, ItemOutcome)] {
        defer { settled = [] }
        return settled
    }

    func takeExpansions() -> [(step: String, items: Int)] {
        defer { expansions = [] }
        return expansions
    }

    func finish(_ stepID: String, _ index: Int, _ outcome: ItemOutcome) {
        let state = states[stepID]!
        state.record(outcome, at: index)
        state.started.remove(index)
        changes.append(.item(stepID, index))
    }

    /// Items that can start now. Only what the last changes can affect is looked at, so each
    /// completion costs the handful of items it unblocks, not a scan of every item.
    func launchable() -> [ItemWork] {
        var ready: [ItemWork] = []
        while let change = changes.popLast() {
            switch change {
            case .step(let id):
                examine(states[id]!, only: nil, into: &ready)
            case .item(let id, let index):
                let state = states[id]!
                if state.isOrdered { changes.append(.step(id)) }
                for dependentID in dependents[id] ?? [] {
                    let dependent = states[dependentID]!
                    if dependent.isExpanded && isPipelined(state, with: dependent) {
                        examine(dependent, only: index, into: &ready)
                    } else if !dependent.isExpanded {
                        changes.append(.step(dependentID))
                    }
                }
            }
        }
        return ready
    }

    private func examine(_ state: StepState, only index: Int?, into ready: inout [ItemWork]) {
        var indices: [Int]
        if !state.isExpanded {
            guard canExpand(state) else { return }
            expand(state)
            indices = Array(state.refs.indices)
            // A fan-out over nothing is finished at once: what needs it may start.
            if state.refs.isEmpty { changes += (dependents[state.step.id] ?? []).map(Change.step) }
        } else if let index {
            indices = index < state.refs.count ? [index] : []
        } else {
            indices = Array(state.refs.indices)
        }
        for index in indices where state.outcomes[index] == nil && !state.started.contains(index) {
            switch readiness(state, index) {
            case .wait: continue
            case .settle(let outcome): settle(state, index, outcome)
            case .ready:
                state.started.insert(index)
                ready.append(work(state, index))
            }
        }
    }

    private func settle(_ state: StepState, _ index: Int, _ outcome: ItemOutcome) {
        state.record(outcome, at: index)
        settled.append((state.step.id, state.refs[index], outcome))
        changes.append(.item(state.step.id, index))
    }

    /// After the loop: whatever never started is reported as such.
    func markUnreached(interrupted: Bool) {
        for id in order {
            let state = states[id]!
            if !state.isExpanded {
                state.items = [.null]
                state.refs = [.single]
                state.clearOutcomes(count: 1)
                state.priorities = [3]
                state.dependencies = [[]]
            }
            for index in state.refs.indices where state.outcomes[index] == nil {
                let reason = interrupted ? "interrupted before it started" : (blockingReason(state) ?? "never became ready")
                let outcome = ItemOutcome(status: .notStarted, hosts: [], started: nil, duration: .zero, attempts: 0, reason: reason, evidence: nil, outputs: [:])
                state.record(outcome, at: index)
                settled.append((id, state.refs[index], outcome))
            }
        }
    }

    /// What every step left, as templates read it: for the goal, checked when the run is over.
    func finalRoots() -> [String: Value] {
        var stepsValue: [String: Value] = [:]
        for id in order where states[id]!.isFinished { stepsValue[id] = .map(aggregate(states[id]!)) }
        var roots = baseRoots
        roots["steps"] = .map(stepsValue)
        return roots
    }

    /// Steps that did not succeed throughout, with why: what they would have found is unknown.
    func unfinishedSteps() -> [String: String] {
        var unfinished: [String: String] = [:]
        for id in order {
            let outcomes = states[id]!.outcomes.compactMap { $0 }
            if let bad = outcomes.first(where: { !$0.isSuccess }) {
                unfinished[id] = "ended \(bad.status.rawValue)" + (bad.reason.map { ": \($0)" } ?? "")
            }
        }
        return unfinished
    }

    /// Steps that did not end as the runbook allows: failed (without `on_failure: continue`),
    /// denied, never ran. One line each, for the goal's verdict.
    func stepsNotSucceeded() -> [String] {
        order.compactMap { id in
            let outcomes = states[id]!.outcomes.compactMap { $0 }
            guard let bad = outcomes.first(where: { !$0.satisfiesDependents }) else { return nil }
            switch bad.status {
            // Why is the step before it, named on its own line: no chain of "was skipped: ...".
            case .notStarted, .skipped: return "step '\(id)' did not run"
            default:
                let what = bad.status == .denied ? "was denied" : bad.status.rawValue
                guard let reason = bad.reason else { return "step '\(id)' \(what)" }
                let firstLine = String(reason.prefix { $0 != "\n" })
                let shown: String = firstLine.count > 200 ? String(firstLine.prefix(200)) + "…" : firstLine
                return "step '\(id)' \(what) (\(shown))"
            }
        }
    }

    func results() -> [RunSummary.StepResult] {
        order.map { id in
            let state = states[id]!
            return RunSummary.StepResult(id: id, title: state.step.title,
                                         items: state.refs.indices.compactMap { index in state.outcomes[index].map { (state.refs[index], $0) } })
        }
    }

    // MARK: Readiness

    private func isPipelined(_ need: StepState, with state: StepState) -> Bool {
        !state.step.barrier && state.listKey != nil && need.listKey == state.listKey
    }

    private func canExpand(_ state: StepState) -> Bool {
        state.step.needs.allSatisfy { id in
            guard let need = states[id] else { return true }
            return isPipelined(need, with: state) ? need.isExpanded : need.isFinished
        } && state.step.after.allSatisfy { states[$0]?.isFinished ?? true }
    }

    private func expand(_ state: StepState) {
        // A need that ended badly settles the whole step without evaluating its templates.
        for id in state.step.needs {
            guard let need = states[id], !isPipelined(need, with: state), let blocked = blockingOutcome(need) else { continue }
            setItems(state, [.null])
            settle(state, 0, blocked)
            return
        }
        guard let foreach = state.step.foreach else {
            setItems(state, [.null])
            return
        }
        if let pipelinedNeed = state.step.needs.compactMap({ states[$0] }).first(where: { isPipelined($0, with: state) }) {
            setItems(state, pipelinedNeed.items!)
            return
        }
        do {
            let value = try foreach.template.value(in: DictionaryScope(roots(for: state, index: nil)))
            switch value {
            case .list(let items): setItems(state, items)
            case .null: setItems(state, [])
            case .unknown(let text):
                // Offline dry-run: one placeholder item standing for every entry.
                setItems(state, [.unknown("item")])
                state.refs = [ItemRef(index: 0, label: "each of \(text)")]
            default:
                throw EvaluationError("foreach \(foreach.template.source) gave a \(value.kindName), not a list")
            }
        } catch {
            setItems(state, [.null])
            settle(state, 0, ItemOutcome(status: .failed, hosts: [], started: nil, duration: .zero, attempts: 0,
                                         reason: "foreach: \(error)", evidence: nil, outputs: [:]))
        }
    }

    private func setItems(_ state: StepState, _ items: [Value]) {
        expansions.append((state.step.id, items.count))
        state.items = items
        state.clearOutcomes(count: items.count)
        state.refs = items.enumerated().map { index, item in
            ItemRef(index: index, label: state.step.foreach == nil ? "" : label(of: item, index: index))
        }
        state.priorities = items.map(priority(of:))
        // VM dependencies order power-ons, so they apply with `order: priority` only.
        state.dependencies = state.step.order == .priority ? items.map(dependencies(of:)) : items.map { _ in [] }
        state.isOrdered = state.step.order == .priority || state.dependencies.contains { !$0.isEmpty }
        state.indexItems()
        restore(state)
    }

    /// Keeps what an interrupted attempt finished, when the fan-out gives the same item again.
    private func restore(_ state: StepState) {
        guard !restored.isEmpty else { return }
        for index in state.refs.indices {
            guard let finished = restored[ResumeState.Key(step: state.step.id, index: index)], finished.label == state.refs[index].label else { continue }
            state.record(finished.outcome, at: index)
            changes.append(.item(state.step.id, index))
        }
    }

    private func label(of item: Value, index: Int) -> String { GoalCheck.label(of: item, index: index) }

    private func vmName(_ item: Value) -> String { (item["name"] ?? item).text }

    private func priority(of item: Value) -> Int {
        if let number = item["priority"]?.numberValue { return Int(number) }
        return inventory.vm(named: vmName(item))?.priority ?? 3
    }

    private func dependencies(of item: Value) -> [String] {
        if let listed = item["depends_on"]?.listValue { return listed.map(\.text) }
        return inventory.vm(named: vmName(item))?.dependsOn ?? []
    }

    private enum Readiness {
        case ready
        case wait
        case settle(ItemOutcome)
    }

    private func readiness(_ state: StepState, _ index: Int) -> Readiness {
        for id in state.step.needs {
            guard let need = states[id], isPipelined(need, with: state) else { continue }
            guard let upstream = need.outcomes[index] else { return .wait }
            if let blocked = blocked(by: upstream, in: need.step.id, label: state.refs[index].label) { return .settle(blocked) }
        }
        if state.step.order == .priority {
            let group = state.priorities[index]
            let earlierPending = state.pendingByPriority.contains { $0.key < group && $0.value > 0 }
            if earlierPending { return .wait }
        }
        for dependency in state.dependencies[index] {
            guard let other = state.indexByLabel[dependency], other != index else { continue }
            guard let outcome = state.outcomes[other] else { return .wait }
            if !outcome.satisfiesDependents {
                return .settle(skipped("\(dependency), which it depends on, did not succeed in \(state.step.id)", notStarted: outcome.status == .notStarted || outcome.status == .awaitingApproval))
            }
        }
        return .ready
    }

    /// The outcome for dependents of an upstream outcome that does not let them run, or nil.
    private func blocked(by upstream: ItemOutcome, in stepID: String, label: String) -> ItemOutcome? {
        if upstream.satisfiesDependents { return nil }
        switch upstream.status {
        case .awaitingApproval: return skipped("waits for approval '\(stepID)'", notStarted: true)
        case .notStarted: return skipped(upstream.reason ?? "'\(stepID)' did not start", notStarted: true)
        case .skipped: return skipped(upstream.reason.map { "'\(stepID)' was skipped: \($0)" } ?? "'\(stepID)' was skipped", notStarted: false)
        default: return skipped("'\(stepID)'\(label.isEmpty ? "" : " for \(label)") \(upstream.status == .denied ? "was denied" : "failed")", notStarted: false)
        }
    }

    private func blockingOutcome(_ need: StepState) -> ItemOutcome? {
        need.outcomes.compactMap { $0 }.lazy.compactMap { self.blocked(by: $0, in: need.step.id, label: "") }.first
    }

    private func blockingReason(_ state: StepState) -> String? {
        for id in state.step.needs {
            if let need = states[id], let outcome = blockingOutcome(need) { return outcome.reason }
        }
        return nil
    }

    private func skipped(_ reason: String, notStarted: Bool) -> ItemOutcome {
        ItemOutcome(status: notStarted ? .notStarted : .skipped, hosts: [], started: nil, duration: .zero, attempts: 0, reason: reason, evidence: nil, outputs: [:])
    }
}
