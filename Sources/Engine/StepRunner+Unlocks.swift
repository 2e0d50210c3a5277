import DrctlCore
import Foundation
import RunbookFormat

/// What an approval unlocks, for the approver (`details`) and the record: the commands that change
/// hosts in the steps that depend on it, per host, written as far as they can be now. Values only a
/// later step will know are shown as the runbook writes them.
extension StepRunner {
    func unlockedCommands(behind approval: String, roots: [String: Value]) -> [String] {
        let behind = steps(behind: approval)
        var roots = roots
        var known = roots["steps"]?.mapValue ?? [:]
        for step in runbook.steps where known[step.id] == nil {
            known[step.id] = .map(Dictionary(step.outputNames.map { ($0, Value.unknown("steps.\(step.id).\($0)")) }) { first, _ in first })
        }
        roots["steps"] = .map(known)
        var byHost: [String: [String]] = [:]
        for step in runbook.steps where behind.contains(step.id) && step.mutates {
            var items: [Value?] = [nil]
            if let foreach = step.foreach {
                let list = (try? foreach.template.value(in: DictionaryScope(roots)))?.listValue
                items = list ?? [.unknown("item")]
            }
            for item in items {
                var itemRoots = roots
                if let item { itemRoots["item"] = item }
                let scope = DictionaryScope(itemRoots)
                let label = step.foreach == nil ? "" : item.map { $0.isUnknown ? " [each of \(step.foreach!.template.source)]" : " [\(GoalCheck.label(of: $0, index: 0))]" } ?? ""
                let hosts: [String]
                switch try? resolveHosts(step, scope) {
                case .known(let found)?: hosts = found.map(\.name)
                case .unknown(let text)?: hosts = ["(hosts from \(text))"]
                case nil: hosts = ["(hosts from \(step.on?.template.source ?? "?"))"]
                }
                // A fallback step runs on the first host, and on the next only if one refuses.
                let targets = step.fallback ? Array(hosts.prefix(1)) : hosts
                let fallback = step.fallback && hosts.count > 1 ? " (if refused: \(hosts.dropFirst().joined(separator: ", then ")))" : ""
                for host in targets {
                    byHost[host, default: []] += planLines(step, scope).map { "\(step.id)\(label): \($0)\(fallback)" }
                }
            }
        }
        return byHost.keys.sorted().flatMap { host in ["\(host):"] + byHost[host]!.map { "  " + $0 } }
    }

    /// The steps that depend on `approval`, directly or through others (`needs`; `after` only orders).
    private func steps(behind approval: String) -> Set<String> {
        var behind: Set<String> = [approval]
        var grew = true
        while grew {
            grew = false
            for step in runbook.steps where !behind.contains(step.id) && step.needs.contains(where: behind.contains) {
                behind.insert(step.id)
                grew = true
            }
        }
        behind.remove(approval)
        return behind
    }
}
