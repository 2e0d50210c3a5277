import ArgumentParser
import Foundation
import RunbookFormat

struct SimInventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Write a scenario's site as an inventory file (as it was before the scenario's failures).",
        discussion: HelpText.unwrapped("""
        The inventory a drill runs with, for `drctl whatif` or `drctl run --dry-run`: hosts (with
        their memory and VMkernel interfaces), datastores and their zoning, VMs with priority,
        dependencies, placement, memory, guest and VMware Tools. Authentication is `prompt`.

        Example:
          drctl sim generate --seed 7 --hosts 50 --vms 2000 -o /tmp/site-scenario.yaml
          drctl sim inventory --scenario /tmp/site-scenario.yaml -o /tmp/site.yaml
          drctl whatif --inventory /tmp/site.yaml --all-hosts
        """)
    )

    @Option(help: "The scenario file.", completion: Completion.yamlFile) var scenario: String
    @Option(name: .shortAndLong, help: "Write the inventory to this file instead of standard output.", completion: .file()) var output: String?

    func run() throws {
        let text: String
        do { text = try InventoryWriter.yaml(try loadScenario(scenario).inventory) } catch let exit as ExitCode { throw exit } catch {
            throw failInvalidInput(["drctl sim inventory: \(error)"])
        }
        guard let output else { return print(text, terminator: "") }
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw failInvalidInput(["drctl sim inventory: cannot write \(output): \(error.localizedDescription)"])
        }
        print("wrote \(output)")
    }
}
