import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// Dry-run plans: what would run, where, behind which approval.
extension StepRunner {
    /// Records a dry-run entry and gives the step placeholder outputs.
    func plan(_ work: ItemWork, host: String?, scope: DictionaryScope, note: String?, lines: [String]? = nil) async -> ItemOutcome {
        let step = work.step
        let shown = lines ?? planLines(step, scope)
        let entry = PlanEntry(sequence: 0, step: step.id, title: step.title, kind: step.kind.name, item: work.item, host: host, lines: shown,
                              behindApprovals: work.behindApprovals, note: note, mutates: step.mutates, executed: false)
        await records.addPlan(entry, events: events)
        var outputs: [String: Value] = [:]
        for name in step.outputNames where name != "status" { outputs[name] = .unknown("steps.\(step.id).\(name)") }
        return ItemOutcome(status: .planned, hosts: host.map { [$0] } ?? [], started: nil, duration: .zero, attempts: 0, reason: note, evidence: nil, outputs: outputs)
    }

    func planLines(_ step: Step, _ scope: DictionaryScope) -> [String] {
        func render(_ template: LocatedTemplate) -> String {
            (try? template.template.shellCommand(in: scope).text) ?? template.template.source
        }
        func actionLines(_ call: ActionCall) -> [String] {
            guard let action = ActionCatalog.action(named: call.name) else { return [call.name] }
            guard let arguments = try? actionArguments(call, scope), !arguments.values.values.contains(where: \.isUnknown),
                  let commands = try? action.plan(arguments) else {
                let shown = call.arguments.keys.sorted().map { name in
                    "\(name)=" + ((try? call.arguments[name]!.template.value(in: scope).text) ?? call.arguments[name]!.template.source)
                }.joined(separator: " ")
                return ["\(call.name) \(shown)"]
            }
            return commands
        }
        switch step.kind {
        case .run(let template): return [render(template)]
        case .action(let call): return actionLines(call)
        case .wait(let wait):
            let check: [String]
            switch wait.check {
            case .run(let template): check = [render(template)]
            case .action(let call): check = actionLines(call)
            case .probe(let probe):
                check = ["\(probe.method.rawValue) probe of \((try? probe.target.template.value(in: scope).text) ?? probe.target.template.source)\(probe.port.map { ":\($0)" } ?? "")"]
            }
            let limit = (try? waitTimeout(wait, scope)).map(DurationText.format) ?? wait.timeoutTemplate?.template.source ?? ""
            return check.map { "repeat every \(DurationText.format(wait.interval)): \($0)" } + ["until \(wait.until.source) (give up after \(limit))"]
        case .approval(let approval): return ["APPROVAL: \(approval.prompt.template.source)"]
        case .probe(let probe): return ["\(probe.method.rawValue) probe of \(probe.target.template.source), expect \(probe.expect?.rawValue ?? "either")"]
        }
    }

    func plannedResult(_ outcome: ItemOutcome) -> HostResult {
        .planned(outputs: outcome.outputs)
    }
}
