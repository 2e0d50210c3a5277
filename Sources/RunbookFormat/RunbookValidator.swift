import DrctlCore
import ESXi

/// Checks that hold across steps: unique ids, `needs` that exist, no cycles, and templates that
/// only reference what is defined where they are used.
public enum RunbookValidator {
    /// The fields of `inventory` a template may read.
    public static let inventoryFields = ["hosts", "vms", "datastores", "esxi_hosts", "vcsa_hosts"]
    static let roots = ["params", "inventory", "item", "steps", "host", "run", "result"]

    public static func validate(_ runbook: Runbook) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var firstSeen: [String: Step] = [:]
        for step in runbook.steps where !step.id.isEmpty {
            if let first = firstSeen[step.id] {
                diagnostics.append(Diagnostic(step.keyLocations["id"] ?? step.location,
                                              "duplicate step id '\(step.id)' (first used at line \(first.location.line)): ids must be unique"))
            } else {
                firstSeen[step.id] = step
            }
            if step.id.first?.isLetter != true || !step.id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
                diagnostics.append(Diagnostic(step.keyLocations["id"] ?? step.location,
                                              "step id '\(step.id)' must start with a letter and hold only letters, digits, '-' and '_'"))
            }
        }
        var seenParams = Set<String>()
        for parameter in runbook.params where !parameter.name.isEmpty {
            if !seenParams.insert(parameter.name).inserted {
                diagnostics.append(Diagnostic(parameter.location, "duplicate param '\(parameter.name)'"))
            }
        }
        let ids = Array(firstSeen.keys)
        for step in runbook.steps {
            for need in step.needs where firstSeen[need] == nil {
                diagnostics.append(Diagnostic(step.keyLocations["needs"] ?? step.location,
                                              "step '\(step.id)' needs '\(need)', but no step has that id\(Suggestion.hint(for: need, among: ids))"))
            }
            for earlier in step.after where firstSeen[earlier] == nil {
                diagnostics.append(Diagnostic(step.keyLocations["after"] ?? step.location,
                                              "step '\(step.id)' comes after '\(earlier)', but no step has that id\(Suggestion.hint(for: earlier, among: ids))"))
            }
            if need(itself: step) {
                diagnostics.append(Diagnostic(step.keyLocations["needs"] ?? step.location, "step '\(step.id)' needs itself"))
            }
        }
        // `after` orders steps as `needs` does: a cycle through either can never start.
        if let cycle = findCycle(runbook.steps.map { step in var ordered = step; ordered.needs += step.after; return ordered }) {
            let step = firstSeen[cycle[0]]!
            diagnostics.append(Diagnostic(step.keyLocations["needs"] ?? step.location,
                                          "the steps form a cycle (each needs the next): \(cycle.joined(separator: " -> ")); remove one of these needs"))
            return diagnostics
        }
        let ancestors = StepGraph.ancestors(of: runbook.steps)
        for step in runbook.steps {
            diagnostics += checkPlacement(step)
            diagnostics += checkReferences(step, runbook: runbook, ancestors: ancestors[step.id] ?? [], steps: firstSeen)
        }
        if let goal = runbook.goal { diagnostics += validateGoal(goal, runbook: runbook, steps: firstSeen) }
        return diagnostics
    }

    static func need(itself step: Step) -> Bool { step.needs.contains(step.id) }

    /// A cycle as ids, first id repeated at the end, or nil.
    static func findCycle(_ steps: [Step]) -> [String]? {
        let needs = Dictionary(steps.map { ($0.id, $0.needs) }, uniquingKeysWith: { first, _ in first })
        var state: [String: Int] = [:]  // 1 = on the path, 2 = done
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            if state[id] == 2 { return nil }
            if state[id] == 1, let start = path.firstIndex(of: id) { return Array(path[start...]) + [id] }
            state[id] = 1
            path.append(id)
            for next in needs[id] ?? [] where needs[next] != nil && next != id {
                if let cycle = visit(next) { return cycle }
            }
            path.removeLast()
            state[id] = 2
            return nil
        }
        for step in steps {
            if let cycle = visit(step.id) { return cycle }
        }
        return nil
    }

    static func checkPlacement(_ step: Step) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let place = step.keyLocations[step.kind.name] ?? step.location
        switch step.kind {
        case .run, .action, .wait:
            if case .wait(let wait) = step.kind, case .probe = wait.check { break }
            if step.on == nil && step.keyLocations["on"] == nil {
                diagnostics.append(Diagnostic(place, "step '\(step.id)' runs commands but has no 'on:' naming the host(s), e.g. on: \"{{ params.host }}\""))
            }
        case .approval:
            if let on = step.keyLocations["on"] { diagnostics.append(Diagnostic(on, "an approval runs on no host: remove 'on:' from step '\(step.id)'")) }
            if let foreach = step.keyLocations["foreach"] { diagnostics.append(Diagnostic(foreach, "an approval cannot fan out: remove 'foreach:' from step '\(step.id)'")) }
        case .probe(let probe):
            if probe.method == .tcp, probe.port == nil, !probe.target.template.source.contains(":") {
                diagnostics.append(Diagnostic(place, "a tcp probe needs a port: add port: 443 or write the target as address:port"))
            }
        }
        if !step.captures.isEmpty {
            var capturesOutput = false
            if case .run = step.kind { capturesOutput = true }
            if case .wait(let wait) = step.kind, case .run = wait.check { capturesOutput = true }
            if !capturesOutput, let capture = step.keyLocations["capture"] {
                diagnostics.append(Diagnostic(capture, "capture reads a command's output, so it belongs on run steps; actions already give their outputs as steps.\(step.id).NAME"))
            }
        }
        if step.fallback, step.on == nil, let fallback = step.keyLocations["fallback"] {
            diagnostics.append(Diagnostic(fallback, "fallback tries the hosts of on: in order, but step '\(step.id)' has no on:"))
        }
        if step.order == .priority, step.foreach == nil, let order = step.keyLocations["order"] {
            diagnostics.append(Diagnostic(order, "order: priority orders fan-out items, but step '\(step.id)' has no foreach"))
        }
        return diagnostics
    }

    /// Every template and condition of a step, with what `result` may mean there.
    static func expressions(of step: Step) -> [(expression: Expression, location: SourceLocation, allowsResult: Bool)] {
        var found: [(Expression, SourceLocation, Bool)] = []
        func add(_ template: LocatedTemplate?, result: Bool = false) {
            guard let template else { return }
            found += template.template.expressions.map { ($0, template.location, result) }
        }
        func add(_ condition: LocatedCondition?, result: Bool) {
            guard let condition else { return }
            found.append((condition.expression, condition.location, result))
        }
        func add(_ call: ActionCall) { call.arguments.values.forEach { add($0) } }
        add(step.on)
        add(step.foreach)
        step.set.forEach { add($0.template, result: true) }
        add(step.ensure?.that, result: true)
        add(step.ensure?.message, result: true)
        add(step.when, result: false)
        add(step.skippedBecause)
        add(step.expect.that, result: true)
        switch step.kind {
        case .run(let template): add(template)
        case .action(let call): add(call)
        case .approval(let approval):
            add(approval.prompt)
            approval.show.forEach { add($0.value) }
            add(step.handOff)
        case .probe(let probe): add(probe.target)
        case .wait(let wait):
            switch wait.check {
            case .run(let template): add(template)
            case .action(let call): add(call)
            case .probe(let probe): add(probe.target)
            }
            add(wait.until, result: true)
            add(wait.timeoutTemplate)
        }
        switch step.verify {
        case .run(let template, let expectation)?:
            add(template)
            add(expectation.that, result: true)
        case .action(let call, let that)?:
            add(call)
            add(that, result: true)
        default: break
        }
        return found
    }

    /// Where an expression is used: what `item`, `host` and `steps.ID` may mean there.
    struct ReferenceContext {
        var owner: String
        var hasItem: Bool
        var hasHost: Bool
        /// Steps whose outputs are available (those needed, directly or through others).
        var available: Set<String>
        /// Every step that exists, with its outputs.
        var steps: [String: Step]
        var params: [String]
    }

    static func checkReferences(_ step: Step, runbook: Runbook, ancestors: Set<String>, steps: [String: Step]) -> [Diagnostic] {
        let context = ReferenceContext(owner: "step '\(step.id)'", hasItem: step.foreach != nil, hasHost: step.on != nil || step.keyLocations["on"] != nil,
                                       available: ancestors, steps: steps, params: runbook.params.map(\.name))
        return checkReferences(expressions(of: step), context)
    }

    static func checkReferences(_ expressions: [(expression: Expression, location: SourceLocation, allowsResult: Bool)],
                                _ context: ReferenceContext) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let params = context.params
        for (expression, location, allowsResult) in expressions {
            for filter in expression.filterNames where !ExpressionEvaluator.filterNames.contains(filter) {
                diagnostics.append(Diagnostic(location, "unknown filter '\(filter)'\(Suggestion.hint(for: filter, among: ExpressionEvaluator.filterNames))"))
            }
            for path in expression.references {
                guard let root = path.first else { continue }
                func problem(_ message: String) { diagnostics.append(Diagnostic(location, message)) }
                switch root {
                case "params":
                    if path.count > 1, !params.contains(path[1]) {
                        problem("undefined variable params.\(path[1]): declare it under params:\(Suggestion.hint(for: path[1], among: params))")
                    }
                case "inventory":
                    if path.count > 1, !inventoryFields.contains(path[1]) {
                        problem("inventory has no '\(path[1])'\(Suggestion.hint(for: path[1], among: inventoryFields)); it has \(inventoryFields.joined(separator: ", "))")
                    }
                case "item":
                    if !context.hasItem { problem("'item' is only defined in a step with foreach, and \(context.owner) has none") }
                case "host":
                    if !context.hasHost { problem("'host' is only defined in a step with on:") }
                case "run": break
                case "result":
                    if !allowsResult { problem("'result' is only defined in until, that and expect conditions") }
                case "steps":
                    guard path.count > 1 else { problem("write steps.ID.NAME, e.g. steps.find-vms.vms"); continue }
                    let id = path[1]
                    guard let referenced = context.steps[id] else {
                        problem("undefined variable steps.\(id): no step has id '\(id)'\(Suggestion.hint(for: id, among: Array(context.steps.keys)))")
                        continue
                    }
                    if !context.available.contains(id) {
                        problem("\(context.owner) uses steps.\(id) but does not need '\(id)' (directly or through other steps): add it to needs")
                    }
                    if path.count > 2, !referenced.outputNames.contains(path[2]) {
                        problem("step '\(id)' has no output '\(path[2])'\(Suggestion.hint(for: path[2], among: referenced.outputNames)); it has \(referenced.outputNames.joined(separator: ", "))")
                    }
                default:
                    problem("undefined variable '\(root)'\(Suggestion.hint(for: root, among: roots)); templates can use \(roots.filter { $0 != "result" }.joined(separator: ", "))")
                }
            }
        }
        return diagnostics
    }

    /// A goal reads every step; its requirements also read the goal's own reads and `item`.
    static func validateGoal(_ goal: Goal, runbook: Runbook, steps: [String: Step]) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var all = steps
        let mainIDs = Set(steps.keys)
        for read in goal.read {
            if all[read.id] != nil {
                diagnostics.append(Diagnostic(read.keyLocations["id"] ?? read.location, "goal read id '\(read.id)' is already a step id: ids must be unique"))
            }
            all[read.id] = read
            diagnostics += checkPlacement(read)
            let context = ReferenceContext(owner: "goal read '\(read.id)'", hasItem: false, hasHost: read.on != nil, available: mainIDs,
                                           steps: steps, params: runbook.params.map(\.name))
            diagnostics += checkReferences(expressions(of: read), context)
        }
        let context = ReferenceContext(owner: "the goal", hasItem: true, hasHost: false, available: Set(all.keys), steps: all,
                                       params: runbook.params.map(\.name))
        for requirement in goal.require {
            var found: [(expression: Expression, location: SourceLocation, allowsResult: Bool)] = []
            found += requirement.each.template.expressions.map { ($0, requirement.each.location, false) }
            for (_, template) in requirement.set { found += template.template.expressions.map { ($0, template.location, true) } }
            found.append((requirement.holds.expression, requirement.holds.location, true))
            if let shows = requirement.shows { found += shows.template.expressions.map { ($0, shows.location, true) } }
            if let noneFound = requirement.noneFound { found += noneFound.template.expressions.map { ($0, noneFound.location, false) } }
            diagnostics += checkReferences(found, context)
        }
        return diagnostics
    }
}

/// Graph queries shared by validation, the engine and `drctl graph`.
public enum StepGraph {
    /// For each step id, every step it needs directly or transitively.
    public static func ancestors(of steps: [Step]) -> [String: Set<String>] {
        let needs = Dictionary(steps.map { ($0.id, $0.needs) }, uniquingKeysWith: { first, _ in first })
        var memo: [String: Set<String>] = [:]
        func collect(_ id: String, _ visiting: Set<String>) -> Set<String> {
            if let known = memo[id] { return known }
            var result = Set<String>()
            for need in needs[id] ?? [] where !visiting.contains(need) {
                result.insert(need)
                result.formUnion(collect(need, visiting.union([id])))
            }
            memo[id] = result
            return result
        }
        for step in steps { _ = collect(step.id, []) }
        return memo
    }
}
