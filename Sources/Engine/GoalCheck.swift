import DrctlCore
import Foundation
import RunbookFormat

/// Whether a runbook's `goal:` holds, item by item, read from the hosts when the run ends.
public struct GoalVerdict: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var label: String
        public var holds: Bool
        /// Left to a manual step (`hand_off:`): not recovered by the run, and said so.
        public var handedOff: Bool
        /// What the goal's reads showed for it.
        public var shows: String

        public init(label: String, holds: Bool, handedOff: Bool, shows: String) {
            self.label = label
            self.holds = holds
            self.handedOff = handedOff
            self.shows = shows
        }
    }

    public var description: String
    public var items: [Item]
    /// Why the goal could not be checked at all: what it lists was never discovered, or every
    /// list it checks came out empty (nothing checked proves nothing).
    public var problem: String?
    /// Steps that did not end succeeded (failed, denied, never ran): with them the goal holding
    /// is not enough for `succeeded`.
    public var stepsNotSucceeded: [String]

    public init(description: String, items: [Item], problem: String?, stepsNotSucceeded: [String] = []) {
        self.description = description
        self.items = items
        self.problem = problem
        self.stepsNotSucceeded = stepsNotSucceeded
    }

    public var held: [Item] { items.filter(\.holds) }
    public var handedOff: [Item] { items.filter { !$0.holds && $0.handedOff } }
    public var missing: [Item] { items.filter { !$0.holds && !$0.handedOff } }

    /// The outcome rule (docs/runbook-format.md, "The goal and the outcome"): succeeded only when
    /// every item holds, at least one was checked and every step succeeded; handed off when what
    /// does not hold was left to a manual step; partial when some items hold, or all do but a
    /// step did not succeed; failed when none holds, or the goal could not be checked.
    public var outcome: RunSummary.Outcome {
        if problem != nil || items.isEmpty { return .failed }
        if missing.isEmpty {
            if !handedOff.isEmpty { return .handedOff }
            return stepsNotSucceeded.isEmpty ? .succeeded : .partial
        }
        return held.isEmpty ? .failed : .partial
    }

    /// One line: "4 of 6 hold; not recovered: app-02, web; handed off: scratch-01".
    public var sentence: String {
        if let problem { return "the goal could not be checked: \(problem)" }
        if items.isEmpty { return "nothing was checked, so nothing is proven" }
        var parts = ["\(held.count) of \(items.count) hold"]
        if !missing.isEmpty { parts.append("not recovered: " + missing.map(\.label).joined(separator: ", ")) }
        if !handedOff.isEmpty { parts.append("handed off: " + handedOff.map(\.label).joined(separator: ", ")) }
        if !stepsNotSucceeded.isEmpty { parts.append("but " + stepsNotSucceeded.joined(separator: "; ")) }
        return parts.joined(separator: "; ")
    }
}

/// Runs the goal's reads (after every step, whatever happened) and checks each requirement.
struct GoalCheck {
    let goal: Goal
    let runner: StepRunner
    let events: EventSink

    /// `roots`: every step's outputs as the run left them. `unfinished`: why a step that the goal
    /// lists from did not succeed, by step id. `stepsNotSucceeded`: what keeps a goal that holds
    /// from being a success.
    func verdict(roots: [String: Value], unfinished: [String: String], stepsNotSucceeded: [String], handedOff: Set<String>) async -> GoalVerdict {
        var verdict = GoalVerdict(description: goal.description, items: [], problem: nil, stepsNotSucceeded: stepsNotSucceeded)
        for requirement in goal.require {
            let sources = Set(requirement.each.template.expressions.flatMap(\.references).compactMap { $0.first == "steps" && $0.count > 1 ? $0[1] : nil })
            if let blocked = sources.sorted().compactMap({ id in unfinished[id].map { "step '\(id)' \($0)" } }).first {
                verdict.problem = "what it checks comes from \(blocked)"
                return verdict
            }
        }
        var scope = roots
        var steps = roots["steps"]?.mapValue ?? [:]
        let reads = await runner.options.clock.gather(goal.read.map { step in
            { @Sendable () async -> (String, ItemOutcome) in
                let work = ItemWork(step: step, item: .single, roots: roots, behindApprovals: [])
                await events.emit(.itemStarted(step: step.id, item: .single))
                let outcome = await runner.run(work)
                await events.emit(.itemFinished(step: step.id, item: .single, outcome: outcome))
                return (step.id, outcome)
            }
        })
        for (id, outcome) in reads {
            var outputs = outcome.outputs
            outputs["status"] = .string(outcome.status.rawValue)
            steps[id] = .map(outputs)
        }
        scope["steps"] = .map(steps)
        for requirement in goal.require {
            do {
                let list = try requirement.each.template.value(in: DictionaryScope(scope))
                for (index, item) in (list.listValue ?? (list == .null ? [] : [list])).enumerated() {
                    verdict.items.append(check(requirement, item: item, index: index, scope: scope, handedOff: handedOff))
                }
            } catch {
                verdict.problem = "each \(requirement.each.template.source): \(error)"
            }
        }
        if verdict.items.isEmpty, verdict.problem == nil { verdict.problem = nothingFound(scope) }
        return verdict
    }

    /// Every list came out empty: the runbook's own words for it (`none_found:`), else the lists.
    private func nothingFound(_ scope: [String: Value]) -> String {
        let said = goal.require.compactMap { requirement in
            requirement.noneFound.flatMap { try? $0.template.value(in: DictionaryScope(scope)).text }.flatMap { $0.isEmpty ? nil : $0 }
        }
        if !said.isEmpty { return "nothing to check: " + said.joined(separator: "; ") }
        let lists = goal.require.map(\.each.template.source).joined(separator: ", ")
        return "nothing to check: \(lists) came out empty, so what had to be recovered was never established. "
            + "Check the params and the hosts that did not answer, then run again"
    }

    private func check(_ requirement: Goal.Requirement, item: Value, index: Int, scope: [String: Value], handedOff: Set<String>) -> GoalVerdict.Item {
        let label = GoalCheck.label(of: item, index: index)
        var roots = scope
        roots["item"] = item
        var result: [String: Value] = [:]
        do {
            for (name, template) in requirement.set {
                roots["result"] = .map(result)
                result[name] = try template.template.value(in: DictionaryScope(roots))
            }
            roots["result"] = .map(result)
            let holds = try ExpressionEvaluator.condition(requirement.holds.expression, in: DictionaryScope(roots)) == true
            let shows = (try? requirement.shows?.template.value(in: DictionaryScope(roots)).text) ?? nil
            return GoalVerdict.Item(label: label, holds: holds, handedOff: handedOff.contains(label), shows: shows ?? "")
        } catch {
            return GoalVerdict.Item(label: label, holds: false, handedOff: handedOff.contains(label), shows: "cannot be checked: \(error)")
        }
    }

    /// As fan-out items are labelled: a map's name, id or file, else the value itself.
    static func label(of item: Value, index: Int) -> String {
        if let fields = item.mapValue { return (fields["name"] ?? fields["id"] ?? fields["file"])?.text ?? "#\(index + 1)" }
        return item.text
    }
}
