import ArgumentParser
import ESXi

struct ActionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "List the typed ESXi actions a step can name with `action:`.",
        discussion: """
        Example:
          drctl actions
          drctl actions vm.power.on
        """
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
            if name != nil, let commands = try? action.plan(ActionArguments(Dictionary(uniqueKeysWithValues: action.parameters.map { ($0.name, .string("<\($0.name)>")) }))) {
                print("  sends: \(commands.joined(separator: "\n         "))")
            }
            print("")
        }
    }

    private func suggestion(_ name: String) -> String {
        let names = ActionCatalog.names
        let close = names.filter { $0.hasPrefix(name.split(separator: ".").first.map(String.init) ?? name) }
        return close.isEmpty ? "" : " (did you mean \(close.map { "'\($0)'" }.joined(separator: ", "))?)"
    }
}
