import ArgumentParser
import DrctlCore
import ESXi

struct ActionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "List the typed ESXi actions a step can name with `action:`.",
        discussion: HelpText.unwrapped("""
        Example:
          drctl actions
          drctl actions vm.power.on
        """)
    )

    @Argument(help: "Show one action in detail.")
    var name: String?

    func run() throws {
        let actions = name.map { wanted in ActionCatalog.all.filter { $0.name == wanted } } ?? ActionCatalog.all
        if let name, actions.isEmpty {
            throw failInvalidInput(["unknown action '\(name)'" + suggestion(name)])
        }
        for action in actions {
            print("\(action.name)\(action.mutates ? "  [changes the host]" : "")")
            print("  \(action.summary)")
            for parameter in action.parameters {
                print("  with.\(parameter.name)\(parameter.required ? "" : " (optional)"): \(parameter.summary)")
            }
            if !action.outputs.isEmpty { print("  outputs: \(action.outputs.joined(separator: ", "))") }
            if action.verify != nil { print("  verify: built in (skips the work when already done)") }
            if name != nil {
                // What it sends, written with example values (the real ones come from the step's `with:`).
                let examples = ActionArguments(Dictionary(uniqueKeysWithValues: action.parameters.map { ($0.name, Self.example(for: $0)) }))
                if let commands = try? action.plan(examples), !commands.isEmpty {
                    print("  sends (example values): \(commands.joined(separator: "\n                          "))")
                }
            }
            print("")
        }
    }

    /// A value of the parameter's kind that its action accepts, to show the commands it sends.
    static func example(for parameter: ActionParameter) -> Value {
        switch parameter.kind {
        case .integer: return .number(42)
        case .boolean: return .bool(true)
        case .duration: return .string("10s")
        case .choice(let allowed): return .string(allowed.first ?? "")
        case .text:
            if parameter.name.contains("vmx") || parameter.name == "path" { return .string("[datastore1] app-01/app-01.vmx") }
            return .string("<\(parameter.name)>")
        }
    }

    private func suggestion(_ name: String) -> String {
        let names = ActionCatalog.names
        let close = names.filter { $0.hasPrefix(name.split(separator: ".").first.map(String.init) ?? name) }
        return close.isEmpty ? "" : " (did you mean \(close.map { "'\($0)'" }.joined(separator: ", "))?)"
    }
}
