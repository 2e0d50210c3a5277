import ArgumentParser
import Foundation
import RunbookFormat

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check runbooks (and optionally an inventory) without connecting to anything.",
        discussion: """
        Prints every problem as file:line:col: message and exits 2, or prints OK and exits 0.

        Example:
          drctl validate Runbooks/*.yaml --inventory site.yaml
        """
    )

    @Argument(help: "Runbook files to check.")
    var runbooks: [String]

    @Option(help: "Also check this inventory file.")
    var inventory: String?

    func run() throws {
        var problems: [String] = []
        var valid: [String] = []
        for path in runbooks {
            do {
                let runbook = try RunbookLoader.load(path: path)
                valid.append("\(path): OK (\(runbook.name), \(runbook.steps.count) steps)")
            } catch let invalid as InvalidInput {
                problems += invalid.diagnostics.map(\.description)
            }
        }
        if let inventory {
            do {
                let loaded = try InventoryLoader.load(path: inventory)
                valid.append("\(inventory): OK (\(loaded.hosts.count) hosts, \(loaded.vms.count) VMs)")
            } catch let invalid as InvalidInput {
                problems += invalid.diagnostics.map(\.description)
            }
        }
        valid.forEach { print($0) }
        if !problems.isEmpty { throw failInvalidInput(problems) }
    }
}
