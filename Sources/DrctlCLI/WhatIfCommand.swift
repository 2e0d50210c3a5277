import ArgumentParser
import DrctlCore
import Engine
import Foundation
import RunbookFormat
import Simulator

struct WhatIfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Predict the recovery of a failure (or of every host's) from the inventory, in virtual time.",
        discussion: HelpText.unwrapped("""
        Builds a simulated site from the inventory, applies the failure, runs the matching runbook
        (host-failure, datastore-failure or vcenter-loss from --runbooks) against it in virtual time
        with ESXi's durations (docs/simulator.md), approvals given at once, and prints per failure:
        the VMs it takes down, those that cannot be placed and why, when each priority group is
        back, and the verdict against the runbook's RTO. Nothing is recorded and no host is reached.

        Examples:
          drctl whatif --inventory site.yaml --fail esxi-01
          drctl whatif --inventory site.yaml --fail-datastore ds-gold --fail vcenter --appliance-vm vcsa-01
          drctl whatif --inventory site.yaml --all-hosts --format html -o n-plus-1.html
        """)
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, md, html
    }

    @Option(help: "The inventory of the site.", completion: Completion.yamlFile) var inventory: String
    @Option(help: "A host that fails, or `vcenter` (repeatable).") var fail: [String] = []
    @Option(help: "A datastore that is lost (repeatable).") var failDatastore: [String] = []
    @Flag(help: "Every ESXi host of the inventory, one at a time: the N+1 question.") var allHosts = false
    @Option(help: "The vCenter appliance's VM name, for --fail vcenter (default: the inventory's VM named like the vcsa host, or containing vcsa or vcenter).")
    var applianceVm: String?
    @Option(help: "Where the runbooks are.", completion: .directory) var runbooks = "Runbooks"
    @Option(help: "A scenario whose `durations:` to use instead of the defaults.", completion: Completion.yamlFile) var durations: String?
    @Option(name: .customLong("param"), help: "NAME=VALUE for the runbooks (e.g. tools_timeout=0s); repeatable.") var params: [String] = []
    @Option(help: "Seed of the durations' jitter.") var seed: UInt64 = 1
    @Option(help: "text, md or html.") var format: Format = .text
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.", completion: .file()) var output: String?
    @Flag(name: .shortAndLong, help: "Show each simulated run's steps and commands as they go (one failure at a time).") var verbose = false
    @Flag(help: "Refresh the site from its hosts first, over SSH, with read-only commands only (versions, memory, mounts, registered and running VMs).")
    var discover = false
    @OptionGroup var ssh: SSHFlags

    func run() async throws {
        var site: Inventory
        do { site = try InventoryLoader.load(path: inventory) } catch let invalid as InvalidInput { throw failInvalidInput(invalid.diagnostics.map(\.description)) }
        let failures = try chosenFailures(site)
        var discovered: Fleet?
        if discover {
            let redactor = Redactor(patterns: [])
            let transport = ssh.transport(for: site, events: ConnectionLog(echo: verbose, redactor: redactor), redactor: redactor)
            let found = await SiteDiscovery.discover(site, through: transport, seed: seed)
            for note in found.notes { writeToStandardError("note: \(note)\n") }
            discovered = found.fleet
            // The runbooks see the site as found: its VMs where they are now, the inventory's recovery metadata kept.
            let derived = ScenarioLoader.inventory(for: found.fleet)
            site.datastores = derived.datastores
            site.vms = derived.vms
        }
        let timing = try durations.map { try loadScenario($0).durations } ?? .defaults
        // Load and bind each runbook once; exit 2 before anything runs if one does not fit.
        var prepared: [String: Runbook] = [:]
        var jobs: [(InventorySite.Failure, Runbook, [String: Value])] = []
        for failure in failures {
            let (path, wanted) = WhatIf.runbook(for: failure, in: runbooks, inventory: site)
            let runbook: Runbook
            if let known = prepared[path] { runbook = known } else {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw failInvalidInput(["drctl whatif: \(path) not found: the \(failure) what-if runs it; name the directory of the runbooks with --runbooks DIR"])
                }
                do { runbook = try RunbookLoader.load(path: path) } catch let invalid as InvalidInput { throw failInvalidInput(invalid.diagnostics.map(\.description)) }
                prepared[path] = runbook
            }
            let pairs = wanted.map { "\($0.key)=\($0.value)" } + params.filter { pair in runbook.params.contains { pair.hasPrefix("\($0.name)=") } }
            do {
                jobs.append((failure, runbook, try ParameterBinding.bind(runbook, try ParameterBinding.parsePairs(pairs), inventory: site)))
            } catch let problem as ParameterBinding.Problem {
                throw failInvalidInput(problem.description.split(separator: "\n").map { "drctl whatif (\(failure)): \($0)" })
            }
        }
        let started = ContinuousClock.now
        let results = await Self.runAll(jobs, inventory: site, seed: seed, durations: timing, site: discovered, verbose: verbose)
        let table = WhatIfTable(inventory: site, results: results, wallTime: ContinuousClock.now - started)
        let text = switch format {
        case .text: table.text
        case .md: table.markdown
        case .html: table.html
        }
        guard let output else {
            print(text)
            return
        }
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw failInvalidInput(["drctl whatif: cannot write \(output): \(error.localizedDescription)"])
        }
        print("wrote \(output)")
    }

    /// Every failure runs on its own simulated site and virtual clock, several at once.
    static func runAll(_ jobs: [(InventorySite.Failure, Runbook, [String: Value])], inventory: Inventory, seed: UInt64,
                       durations: CommandDurations, site: Fleet?, verbose: Bool) async -> [WhatIf.Result] {
        // Verbose output is readable only one run at a time. A simulated run never waits on real
        // time, so one per core keeps every core busy; more would only hold more sites in memory.
        let width = verbose ? 1 : max(2, ProcessInfo.processInfo.activeProcessorCount)
        // The site before any failure is the same for every run: built once, copied on write.
        let site = site ?? InventorySite.fleet(from: inventory, seed: seed)
        let inventoryValue = inventory.templateValue
        return await withTaskGroup(of: (Int, WhatIf.Result).self) { group in
            var results: [WhatIf.Result?] = Array(repeating: nil, count: jobs.count)
            var next = 0
            func start() {
                let index = next, (failure, runbook, params) = jobs[index]
                next += 1
                group.addTask { (index, await WhatIf.run(failure, runbook: runbook, params: params, inventory: inventory, inventoryValue: inventoryValue, seed: seed,
                                                                durations: durations, site: site, verbose: verbose)) }
            }
            while next < min(width, jobs.count) { start() }
            while let (index, result) = await group.next() {
                results[index] = result
                if next < jobs.count { start() }
            }
            return results.compactMap { $0 }
        }
    }

    func chosenFailures(_ site: Inventory) throws -> [InventorySite.Failure] {
        let esxi = site.hosts.filter { $0.role == .esxi }.map(\.name)
        var failures: [InventorySite.Failure] = []
        var problems: [String] = []
        if allHosts { failures += esxi.map { .host($0) } }
        for name in fail {
            if name == "vcenter" {
                guard site.hosts.contains(where: { $0.role == .vcsa }) else {
                    problems.append("--fail vcenter: \(inventory) has no host with role: vcsa; add the appliance to the inventory")
                    continue
                }
                guard let vm = applianceVm ?? Self.guessAppliance(site) else {
                    problems.append("--fail vcenter: which VM is the appliance? name it with --appliance-vm (no VM of \(inventory) is named like it)")
                    continue
                }
                guard site.vms.contains(where: { $0.name == vm }) else {
                    problems.append("--appliance-vm \(vm): no such VM in \(inventory)\(Suggestion.hint(for: vm, among: site.vms.map(\.name)))")
                    continue
                }
                failures.append(.vcenter(appliance: vm))
            } else if esxi.contains(name) {
                if !failures.contains(.host(name)) { failures.append(.host(name)) }
            } else {
                problems.append("--fail \(name): not an ESXi host of \(inventory)\(Suggestion.hint(for: name, among: esxi + ["vcenter"]))")
            }
        }
        let datastores = Set(site.datastores.map(\.name) + site.vms.compactMap(\.datastore))
        for name in failDatastore {
            if datastores.contains(name) { failures.append(.datastore(name)) } else {
                problems.append("--fail-datastore \(name): no such datastore in \(inventory)\(Suggestion.hint(for: name, among: datastores.sorted()))")
            }
        }
        if failures.isEmpty, problems.isEmpty { problems.append("drctl whatif: name a failure: --fail HOST, --fail vcenter, --fail-datastore NAME or --all-hosts") }
        guard problems.isEmpty else { throw failInvalidInput(problems) }
        return failures
    }

    static func guessAppliance(_ site: Inventory) -> String? {
        let vcsa = site.hosts.first { $0.role == .vcsa }?.name
        return site.vms.first { $0.name == vcsa }?.name
            ?? site.vms.first { $0.name.lowercased().contains("vcsa") || $0.name.lowercased().contains("vcenter") }?.name
    }
}
