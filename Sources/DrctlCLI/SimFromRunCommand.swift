import ArgumentParser
import DrctlCore
import Foundation
import Journal
import RunbookFormat
import Simulator

struct SimFromRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-run",
        abstract: "Write a scenario of the site as a recorded run found it, for the next drill.",
        discussion: HelpText.unwrapped("""
        Rebuilt from the outputs of the reads the run recorded (each read's first answer, before
        the run changed anything): the hosts that answered, their ESXi versions and memory, the
        hosts that never did (down), the datastores each host mounted, the VMs each ran and their
        power, and the .vmx files registered nowhere (on the host the inventory last saw them on).
        Priorities and dependencies come from the run's inventory file when it is still there
        and unchanged. Host names and recorded values stay as recorded; redacted ones stay redacted.
        The scenario's end-state checks (`expect:`) are what the run's goal held at its end: each
        VM registered once and powered as its inventory wants, the datastore mounted where it was.

        Example:
          drctl sim from-run 20261126-145800-3f2a -o Simulator/site-2026-11.yaml
          drctl drill Runbooks/host-failure.yaml --scenario Simulator/site-2026-11.yaml --param failed_host=esxi-01 --auto-approve
        """)
    )

    @Argument(help: "The run id (see drctl runs).", completion: Completion.runID) var runID: String
    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory
    @Option(help: "The scenario's seed.") var seed: UInt64 = 1
    @Option(name: .shortAndLong, help: "Write the scenario to this file instead of standard output.", completion: .file()) var output: String?

    func run() throws {
        guard let journal = RecordedJournal.load(run: runID, in: runsDir) else {
            throw failInvalidInput(["drctl sim from-run: no run \(runID) in \(runsDir) (drctl runs lists them)"])
        }
        let replay: JournalReplay
        do { replay = try JournalReplay(journal) } catch { throw failInvalidInput(["drctl sim from-run: \(runID): \(error)"]) }
        var notes: [String] = []
        let inventory = replay.drill.flatMap { Self.drillInventory($0, notes: &notes) } ?? Self.inventory(of: replay, notes: &notes)
        let outputs = journal.entries.filter { $0["type"] as? String == "command-finished" }.map { entry in
            RecordedSite.Output(host: entry["host"] as? String ?? "", command: entry["command"] as? String ?? "",
                                stdout: journal.output(entry, "stdout"), exitStatus: entry["exit_status"] as? Int ?? 0)
        }
        let site = RecordedSite(outputs: outputs, inventory: inventory, seed: seed)
        notes += site.notes
        let outcome = replay.lastOutcome.flatMap { ScenarioLoader.outcomes.contains($0) ? $0 : nil }
        let checks = Self.checks(impliedBy: journal, site: site, inventory: inventory, params: replay.params, notes: &notes)
        let name = "from-run-\(runID)"
        let text: String
        do {
            text = try ScenarioWriter.yaml(name: name, description: "The site as run \(runID) of \(replay.runbook) found it, rebuilt by drctl sim from-run.",
                                           seed: seed, hosts: site.hosts, datastores: site.datastores, vms: site.vms, expectOutcome: outcome,
                                           expect: checks)
            // Never hand over a scenario the drill cannot read.
            _ = try ScenarioLoader.load(text: text, file: output ?? name)
        } catch let invalid as InvalidInput {
            throw failInvalidInput(["drctl sim from-run: the scenario rebuilt from \(runID) does not load:"] + invalid.diagnostics.map(\.description))
        } catch {
            throw failInvalidInput(["drctl sim from-run: \(error)"])
        }
        for note in notes { writeToStandardError("note: \(note)\n") }
        guard let output else { return print(text, terminator: text.hasSuffix("\n") ? "" : "\n") }
        do { try Data((text.hasSuffix("\n") ? text : text + "\n").utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw failInvalidInput(["drctl sim from-run: cannot write \(output): \(error.localizedDescription)"])
        }
        let down = site.hosts.filter { $0.state != .up }.map(\.name)
        let params = replay.params.keys.sorted().map { "--param \($0)=\(ShellQuote.quote(replay.params[$0]!.text))" }.joined(separator: " ")
        print("wrote \(output): \(site.hosts.count) hosts" + (down.isEmpty ? "" : " (down: \(down.joined(separator: ", ")))")
              + ", \(site.datastores.count) datastores, \(site.vms.count) VMs, \(checks.count) end-state checks from the run's goal")
        print("drill it: drctl drill \(replay.runbookFile) --scenario \(output) \(params) --auto-approve")
    }

    /// The end state the run's goal held, as scenario checks: a goal item named like a VM of the
    /// site is that VM, registered once and powered as its inventory wants; one named like a host
    /// is the datastore a param names, mounted there. Items that did not hold are not checked (the
    /// scenario expects the run's outcome instead), and the notes say how many.
    static func checks(impliedBy journal: RecordedJournal, site: RecordedSite, inventory: Inventory, params: [String: Value],
                       notes: inout [String]) -> [Scenario.Expectation] {
        guard let ended = journal.entries.last(where: { $0["type"] as? String == "run-ended" }),
              let items = (ended["goal"] as? [String: Any])?["items"] as? [[String: Any]] else {
            notes.append("the run recorded no goal: the scenario has no end-state checks, so its drills prove only their own goal")
            return []
        }
        let vmNames = Set(site.vms.map(\.name)), hostNames = Set(site.hosts.map(\.name))
        let datastore = params.values.map(\.text).first { name in site.datastores.contains { $0.name == name } }
        var checks: [Scenario.Expectation] = []
        var mountedOn: [String] = []
        var unchecked = 0
        for item in items {
            guard item["holds"] as? Bool == true, let label = item["label"] as? String else {
                unchecked += 1
                continue
            }
            if vmNames.contains(label) {
                let wanted = inventory.vms.first { $0.name == label }?.powerOn ?? true
                checks.append(.vm(name: label, power: wanted ? .on : .off, hostIn: nil, hostNot: nil, registeredOnce: true))
            } else if hostNames.contains(label), datastore != nil {
                mountedOn.append(label)
            } else {
                unchecked += 1
            }
        }
        if let datastore, !mountedOn.isEmpty { checks.append(.datastore(name: datastore, mountedOn: mountedOn.sorted())) }
        if unchecked > 0 { notes.append("\(unchecked) of the run's \(items.count) goal items did not hold or name nothing of the site: not checked") }
        if checks.isEmpty { notes.append("nothing the run's goal held names the site: the scenario has no end-state checks") }
        return checks
    }

    /// A drill's inventory is its scenario's: read from the scenario file, when it is still there.
    static func drillInventory(_ drill: JournalReplay.DrillInputs, notes: inout [String]) -> Inventory? {
        guard let scenario = try? ScenarioLoader.load(path: drill.scenarioFile, seed: drill.seed) else {
            notes.append("\(drill.scenarioFile), the drill's scenario, does not load any more: priorities and dependencies are not known")
            return nil
        }
        return scenario.inventory
    }

    /// The run's inventory file, if it is still there as the run read it; else none (names only).
    static func inventory(of replay: JournalReplay, notes: inout [String]) -> Inventory {
        guard let file = replay.inventoryFile, !file.isEmpty else {
            notes.append("the run had no inventory file: priorities and dependencies are not known (all priority 3)")
            return Inventory()
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            notes.append("\(file), the run's inventory, is gone: priorities and dependencies are not known")
            return Inventory()
        }
        if let recorded = replay.inventorySHA256, JournalChain.sha256(Data(text.utf8)) != recorded {
            notes.append("\(file) changed since the run: its priorities and dependencies are used as they are now")
        }
        do { return try InventoryLoader.load(text: text, file: file) } catch {
            notes.append("\(file) does not load any more: \(error)")
            return Inventory()
        }
    }
}
