import ArgumentParser
import Foundation
import Simulator

struct SimGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a random, realistic site as a scenario (the same seed gives the same site).",
        discussion: HelpText.unwrapped("""
        The site has partial zoning, memory pressure, priorities and dependencies, hostile names,
        renamed VMs, inventory paths in every form, an unlucky order, and one or two faults beyond
        the failure drilled. Its description says which --param values the runbook needs.

        Example:
          drctl sim generate --seed 7 -o /tmp/site.yaml
          drctl drill Runbooks/host-failure.yaml --scenario /tmp/site.yaml --param failed_host=esxi-03 --auto-approve
          drctl sim generate --seed 7 --failure datastore --hosts 6 --vms 40 --datastores 3
        """)
    )

    @Option(help: "The seed: the same seed writes the same site.") var seed: UInt64
    @Option(help: "Number of ESXi hosts (default: 3 to 7).") var hosts: Int?
    @Option(help: "Number of VMs (default: 6 to 18).") var vms: Int?
    @Option(help: "Number of shared datastores (default: 2 to 4).") var datastores: Int?
    @Option(help: "What fails: host, datastore or vcenter.") var failure: String = "host"
    @Option(name: .shortAndLong, help: "Write the scenario to this file instead of standard output.") var output: String?

    func validate() throws {
        if SiteGenerator.Failure(rawValue: failure) == nil { throw ValidationError("--failure must be host, datastore or vcenter") }
        for (name, value, range) in [("--hosts", hosts, 2...200), ("--vms", vms, 2...20_000), ("--datastores", datastores, 1...100)] {
            if let value, !range.contains(value) { throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound)") }
        }
    }

    func run() throws {
        let site = SiteGenerator(seed: seed, hosts: hosts, vms: vms, datastores: datastores, failure: SiteGenerator.Failure(rawValue: failure)!).generate()
        guard let output else {
            print(site.yaml, terminator: "")
            return
        }
        do {
            try site.yaml.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            writeError("drctl sim generate: cannot write \(output): \(error)")
            throw ExitCode(ExitStatus.invalidInput)
        }
        print("\(output): drill it with --param \(site.params.joined(separator: " --param "))")
    }
}
