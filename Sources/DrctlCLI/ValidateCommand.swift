import ArgumentParser
import Foundation
import RunbookFormat

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check runbooks (and optionally an inventory) without connecting to anything.",
        discussion: HelpText.unwrapped("""
        Prints every problem as file:line:col: message and exits 2, or prints OK and exits 0.

        Example:
          drctl validate Runbooks/*.yaml --inventory site.yaml
        """)
    )

    @Argument(help: "Runbook files to check.", completion: Completion.yamlFile)
    var runbooks: [String]

    @Option(help: "Also check this inventory file.", completion: Completion.yamlFile)
    var inventory: String?

    func run() throws {
        var problems: [String] = []
        var valid: [String] = []
        var inventoryOK: String?
        var loadedInventory: Inventory?
        if let inventory {
            do {
                let loaded = try InventoryLoader.load(path: inventory)
                loadedInventory = loaded
                warnAboutShortSecrets(in: loaded)
                inventoryOK = "\(inventory): OK (\(loaded.hosts.count) hosts, \(loaded.vms.count) VMs)"
            } catch let invalid as InvalidInput {
                problems += invalid.diagnostics.map(\.description)
            }
        }
        for path in runbooks {
            do {
                let runbook = try RunbookLoader.load(path: path)
                // Hosts named outright must be in the inventory the runbook will run with.
                let unknownHosts = loadedInventory.map { RunbookValidator.checkHosts(of: runbook, against: $0) } ?? []
                if unknownHosts.isEmpty {
                    valid.append("\(path): OK (\(runbook.name), \(runbook.steps.count) steps)")
                } else {
                    problems += unknownHosts.map(\.description)
                }
            } catch let invalid as InvalidInput {
                problems += invalid.diagnostics.map(\.description)
            }
        }
        (valid + [inventoryOK].compactMap { $0 }).forEach { print($0) }
        if !problems.isEmpty { throw failInvalidInput(problems) }
    }
}
