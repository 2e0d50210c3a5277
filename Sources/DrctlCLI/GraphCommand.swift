import ArgumentParser
import RunbookFormat

extension GraphRendering.Format: ExpressibleByArgument {}

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print a runbook's step graph as Graphviz dot or Mermaid.",
        discussion: HelpText.unwrapped("""
        Approvals are octagons, probes ellipses, waits hexagons, fan-outs 3-D boxes; steps that
        change hosts have a red border.

        Example:
          drctl graph Runbooks/host-failure.yaml | dot -Tsvg > host-failure.svg
          drctl graph Runbooks/host-failure.yaml --format mermaid
        """)
    )

    @Argument(help: "The runbook file.", completion: Completion.yamlFile)
    var runbook: String

    @Option(help: "dot or mermaid.")
    var format: GraphRendering.Format = .dot

    func run() throws {
        do {
            print(GraphRendering.render(try RunbookLoader.load(path: runbook), as: format), terminator: "")
        } catch let invalid as InvalidInput {
            throw failInvalidInput(invalid.diagnostics.map(\.description))
        }
    }
}
