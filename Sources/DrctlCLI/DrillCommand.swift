import ArgumentParser
import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat
import Simulator
import SSHTransport

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run a runbook against the simulated fleet of a scenario and check the end state.",
        discussion: HelpText.unwrapped("""
        A drill never reaches a real host: every command goes to the in-process simulator, which
        answers like ESXi and injects the scenario's faults. The drill report lists each VM's
        recovery, the RTO achieved, the approvals taken, the failures and the scenario's end-state
        checks. It exits 0 only when the run ended as the scenario expects and every end-state check
        holds: a scenario that checks nothing never passes.

        Example:
          drctl drill Runbooks/host-failure.yaml --scenario Simulator/host-failure.yaml --param failed_host=esxi-01 --auto-approve
        """)
    )

    @Argument(help: "The runbook file.", completion: Completion.yamlFile) var runbook: String
    @Option(help: "The scenario file (see Simulator/).", completion: Completion.yamlFile) var scenario: String
    @Option(help: "Override the scenario's seed.") var seed: UInt64?
    @Flag(help: "Show the plan against the scenario's fleet; change nothing.") var dryRun = false
    @Flag(help: "Put the simulated fleet behind a local sshd and go through the SSH transport end to end (real time).") var viaSSH = false
    @Flag(help: "Run at the pace of a real recovery (waits last their real time), for training; by default a drill runs in virtual time.")
    var realTime = false
    @OptionGroup var common: RunFlags

    func validate() throws {
        if common.inventory != nil { throw ValidationError("a drill takes its inventory from the scenario; drop --inventory") }
    }

    func run() async throws {
        Interrupts.shared.install()
        _ = common.output.prepareConsole()
        var loaded = try common.load(runbookPath: runbook, inventoryRequired: false)
        let world = try loadScenario(scenario, seed: seed)
        loaded.inventory = world.inventory
        let unknownHosts = RunbookValidator.checkHosts(of: loaded.runbook, against: world.inventory)
        if !unknownHosts.isEmpty { throw failInvalidInput(unknownHosts.map { "\($0) (the scenario's hosts are its inventory)" }) }
        do {
            loaded.params = try ParameterBinding.bind(loaded.runbook, try ParameterBinding.parsePairs(common.params), inventory: world.inventory)
        } catch let problem as ParameterBinding.Problem {
            throw failInvalidInput(problem.description.split(separator: "\n").map(String.init))
        }
        var options = common.options(dryRun: dryRun, offline: false)
        options.probeTimeout = .seconds(2)
        // Virtual time: waits, latencies and timeouts pass as soon as all work waits on them, so a
        // 40-minute recovery is drilled in seconds and its report says how long it would take.
        let clock: any RunClock = realTime || viaSSH || dryRun ? SystemClock() : VirtualClock()
        options.clock = clock
        let gate = try common.approval.gate(for: loaded.runbook, drill: true, runID: options.runID, runsDirectory: common.runsDir)
        let redactor = Redactor(patterns: loaded.runbook.redact)
        let drillHeader = RunHeader.Drill(scenarioFile: absolutePath(scenario), scenarioSource: (try? String(contentsOfFile: scenario, encoding: .utf8)) ?? "",
                                          seed: world.fleet.seed, viaSSH: viaSSH)
        let summary: RunSummary
        let report = Verdict()
        let runbook = loaded.runbook
        if viaSSH {
            let fleet: FleetBehindSSHD
            do {
                fleet = try FleetBehindSSHD.start(world, drctl: Self.executablePath)
            } catch {
                writeError("drctl drill --via-ssh: \(error)")
                throw ExitCode(ExitStatus.invalidInput)
            }
            defer { fleet.stop() }
            loaded.inventory = fleet.inventory
            let journal = try await newJournal(loaded, runID: options.runID, runsDirectory: common.runsDir, redactor: redactor, drill: drillHeader,
                                               flags: common.approval.recorded, operatorGivenName: common.approval.givenName,
                                               signer: try common.signer())
            let connections = ConnectionLog(echo: common.output.verbose, redactor: redactor)
            let ssh = SSHTransport(inventory: fleet.inventory, settings: .init(knownHostsPath: fleet.inventory.knownHosts!), redactor: redactor,
                                   report: { host, message in connections.add(host: host, message) })
            let transport = SimulatorOverSSH(ssh: ssh, fleet: fleet)
            let runParams = loaded.params
            let settle: @Sendable (RunSummary, JournalWriter) async -> Void = { summary, journal in
                guard let final = try? fleet.state.read() else { return }
                await report.settle(Self.report(runbook, summary: summary, scenario: world, fleet: final, virtualTime: false, params: runParams), in: journal)
            }
            print("drill \(loaded.runbook.name) against scenario \(world.name) (seed \(world.fleet.seed)), over SSH to a local sshd")
            summary = try await execute(loaded, transport: transport, options: options, gate: gate, output: common.output,
                                        journal: journal, redactor: redactor, connections: connections, observers: [transport],
                                        printSummary: dryRun, beforeClose: dryRun ? nil : settle)
        } else {
            let journal = try await newJournal(loaded, runID: options.runID, runsDirectory: common.runsDir, redactor: redactor, drill: drillHeader,
                                               flags: common.approval.recorded, operatorGivenName: common.approval.givenName,
                                               signer: try common.signer())
            let stateFile = StateFile(path: journal.directory.fleetState.path)
            // ESXi's durations cost nothing in virtual time; --real-time sits through them, as a
            // training run at the pace of a real recovery should (a dry-run has none to sit through).
            var fleet = world.fleet
            if clock.isVirtual || (realTime && !dryRun) { fleet.timing = world.durations }
            do {
                try stateFile.create(fleet)
            } catch {
                throw failInvalidInput(["drctl drill: \(error)"])
            }
            await journal.stamp(with: clock)
            let simulator = FleetSimulator(fleet: fleet, connectTimeout: Self.connectTimeout, savingTo: stateFile, clock: clock)
            let transport = SimulatorTransport(simulator: simulator)
            let runParams = loaded.params
            let settle: @Sendable (RunSummary, JournalWriter) async -> Void = { summary, journal in
                await report.settle(Self.report(runbook, summary: summary, scenario: world, fleet: await simulator.fleet, virtualTime: clock.isVirtual,
                                                params: runParams),
                                    in: journal)
            }
            print("drill \(loaded.runbook.name) against scenario \(world.name) (seed \(world.fleet.seed))"
                  + (clock.isVirtual ? ", in virtual time: waits and host latencies pass at once; times shown are what they would take" : ""))
            summary = try await execute(loaded, transport: transport, options: options, gate: gate, output: common.output,
                                        journal: journal, redactor: redactor, observers: [transport], printSummary: dryRun,
                                        beforeClose: dryRun ? nil : settle)
        }
        if dryRun { throw ExitCode(summary.exitCode) }
        throw ExitCode(await report.print(redactor: redactor, final: summary))
    }

    /// The drill's report, made once the run has ended: its verdict goes into the journal before
    /// the journal closes, its text to the console after the run's own lines.
    actor Verdict {
        private var report: DrillReport?

        func settle(_ report: DrillReport, in journal: JournalWriter) async {
            self.report = report
            await journal.record(report.record)
        }

        /// Prints the report, with the run as it finally ended (its record's end may have been
        /// lost after the verdict was made); the drill's exit code (1 when no report could be made).
        nonisolated func print(redactor: Redactor, final summary: RunSummary) async -> Int32 {
            guard var report = await report else { return 1 }
            report.summary = summary
            DrctlCLI.print(redactor.redact(report.text))
            return report.exitCode
        }
    }

    /// How long a hung simulated host keeps drctl waiting for its banner.
    static let connectTimeout = Duration.seconds(2)

    /// The drill report: the run against the scenario's checks of the end state.
    /// `params`: the run's, for the capacity policy the invariants hold the run to.
    static func report(_ runbook: Runbook, summary: RunSummary, scenario: Scenario, fleet: Fleet, virtualTime: Bool, params: [String: Value]) -> DrillReport {
        // Every fault in force: those from the start and those whose trigger came.
        let faults = fleet.faults.filter(\.fired).map { fleet.describe($0.effect) }
        // A generated site has invariants (the outcome word among them) instead of fixed answers.
        let invariants = scenario.invariants?.check(scenario, final: fleet, outcome: summary.outcome.rawValue, policy: CapacityPolicy(params: params)) ?? []
        return DrillReport(runbook: runbook, summary: summary, scenario: scenario, verdicts: invariants + scenario.check(fleet), faults: faults,
                           virtualTime: virtualTime)
    }

    /// This binary, for sshd's ForceCommand.
    /// Read once, before the process is made non-dumpable (which hides /proc/self from its user).
    static let executablePath: String =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? absolutePath(CommandLine.arguments[0])
}
