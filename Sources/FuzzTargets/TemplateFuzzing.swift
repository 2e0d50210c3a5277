import DrctlCore
import Foundation
import RunbookFormat

/// Templates and expressions as a runbook's `{{ }}` holds them, evaluated against values shaped
/// like a real run's: params, an inventory, an item, earlier steps' outputs.
enum TemplateFuzzing {
    static let scope = DictionaryScope([
        "params": .map(["failed_host": .string("esxi-01"), "count": .number(3), "names": .list([.string("web 01"), .string("db;rm -rf /")])]),
        "item": .map(["name": .string("app-01"), "vmid": .number(42), "host": .string("esxi-02"), "priority": .number(1),
                      "vmx": .string("[ds-01] app-01/app-01.vmx")]),
        "inventory": .map([
            "hosts": .list([.map(["name": .string("esxi-01"), "address": .string("10.0.0.1"), "role": .string("esxi")]),
                            .map(["name": .string("esxi-02"), "address": .string("10.0.0.2"), "role": .string("esxi")])]),
            "vms": .list([.map(["name": .string("app-01"), "priority": .number(1), "memory_mb": .number(4096), "depends_on": .list([])]),
                          .map(["name": .string("db-01"), "priority": .number(2), "memory_mb": .number(8192), "depends_on": .list([.string("app-01")])])]),
            "datastores": .list([.map(["name": .string("ds-01"), "shared": .bool(true)])]),
        ]),
        "steps": .map(["discover": .map(["vms": .list([.map(["vmid": .number(1), "name": .string("app-01")])]), "stdout": .string("ok\n")])]),
        "run": .map(["id": .string("fuzz"), "dry_run": .bool(false)]),
    ])

    /// Errors are fine (with a message); traps and hangs are not.
    static func run(_ text: String) -> String {
        var outcomes: [String] = []
        do {
            let template = try Template(text)
            outcomes.append("value: \(try? template.value(in: scope) ?? .null)")
            outcomes.append("command: \((try? template.shellCommand(in: scope))?.text ?? "refused")")
        } catch {
            requireMessage(error)
            outcomes.append("refused: \(error)")
        }
        do {
            let expression = try ExpressionParser.parse(text)
            _ = try? ExpressionEvaluator.condition(expression, in: scope)
            outcomes.append("expression: \(ExpressionEvaluator.describe(expression))")
        } catch {
            requireMessage(error)
        }
        return outcomes.joined(separator: "; ")
    }

    static func requireMessage(_ error: Error) {
        if "\(error)".isEmpty { fatalError("template: an error with no message: \(type(of: error))") }
    }
}
