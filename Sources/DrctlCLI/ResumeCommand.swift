import ArgumentParser
import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat
import Simulator

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Go on with an interrupted run (or drill) from its journal, without repeating what it changed.",
        discussion: HelpText.unwrapped("""
        The journal is the checkpoint: steps it records as finished are kept, not run again, and
        what they found is what later steps read. A step that was running when the run died may
        have changed a host: its verify check decides whether the change happened; without one you
        are asked (off a terminal the run stops and says so). A last journal line cut off by the
        crash is reported and kept aside. If the runbook changed since the run started, resume
        refuses unless --allow-changed-runbook. Drills resume against their saved simulated fleet.

        Example:
          drctl resume 20261126-145800-3f2a --auto-approve
        """)
    )

    @Argument(help: "The run id (see drctl runs).", completion: Completion.runID) var runID: String
    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory
    @Flag(help: "Resume even though the runbook changed since the run started.") var allowChangedRunbook = false
    @OptionGroup var approval: ApprovalFlags
    @OptionGroup var output: OutputFlags
    @Option(help: "Most commands running at once (default: the runbook's, else 32).") var maxParallel: Int?
    @Option(help: "Most commands running at once on one host (default: the runbook's, else 4).") var maxPerHost: Int?
    @Option(help: "How long to wait for a change the dead process sent to land, before sending it again (default: per action, e.g. 10s for vm.registervm).")
    var settle: String?
    @OptionGroup var ssh: SSHFlags
    @Option(help: "An ed25519 key file: sign this attempt's checkpoints with it.") var signKey: String?

    func run() async throws {
        Interrupts.shared.install()
        _ = output.prepareConsole()
        let directory: RunDirectory
        let lock: RunLock
        let repair: JournalRepair
        let replay: JournalReplay
        do {
            directory = try RunDirectory.existing(id: runID, in: runsDir)
            // Before anything is read: a run still going in another process must not be resumed.
            lock = try directory.lock()
            repair = try JournalRepair.inspect(directory)
            guard let journal = RecordedJournal.load(run: runID, in: runsDir) else { throw invalid("cannot read \(directory.journal.path)") }
            replay = try JournalReplay(journal)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw invalid("\(error)")
        }
        if replay.dryRun { throw invalid("run \(runID) was a dry-run: it changed nothing, so there is nothing to resume; run it again") }
        // What kind of run this was is in the chained first line: a drill journal never goes on against real hosts.
        if let kind = replay.kind, (kind == "drill") != (replay.drill != nil) {
            throw invalid("run \(runID): its first line says it is a \(kind), but it \(replay.drill != nil ? "names a scenario" : "names no scenario"): the journal was altered; refused")
        }
        if let abandoned = replay.abandoned { throw invalid("run \(runID) was abandoned (\(abandoned)); start a new run") }
        // Ended with nothing left for drctl: recovered, or what was not is with the manual step.
        if let outcome = replay.lastOutcome, [RunSummary.Outcome.succeeded.rawValue, RunSummary.Outcome.handedOff.rawValue].contains(outcome) {
            print("run \(runID) already ended \(outcome); there is nothing left to do (\(resumeCommand(directory).replacingOccurrences(of: "drctl resume", with: "drctl report")) shows it)")
            if let drill = replay.drill, !drill.viaSSH { throw ExitCode(try checkEndState(drill, directory)) }
            return
        }
        if replay.drill?.viaSSH == true {
            throw invalid("run \(runID) was a drill over SSH: its simulated fleet lived with the sshd that drill started and is gone; start the drill again")
        }
        var loaded = try loadInputs(replay)
        let redactor = Redactor(patterns: loaded.runbook.redact)
        var world: Scenario?
        if let drill = replay.drill {
            world = try loadScenario(drill.scenarioFile, seed: drill.seed)
            loaded.inventory = world!.inventory
        }
        // Every check passed: only now is anything written.
        let torn: String?
        do {
            torn = try repair.apply(to: directory)
        } catch {
            throw invalid("\(directory.journal.path): cannot cut off its torn last line: \(error)")
        }
        if let torn {
            print("The journal's last line was cut off when the run died (\(repair.tornBytes?.count ?? 0) bytes); it is kept in \(torn) and the run goes on from event \(repair.lastSequence).")
        }
        var notes: [String: String] = [:]
        if let torn { notes["torn_last_line"] = torn }
        if allowChangedRunbook { notes["changed_runbook_allowed"] = "true" }
        let journal: JournalWriter
        do {
            journal = try JournalWriter(continuing: directory, holding: lock, after: repair, redactor: redactor, notes: notes)
        } catch {
            throw invalid("\(directory.journal.path): cannot append to the journal: \(error)")
        }
        if let signKey {
            do { await journal.sign(with: try JournalSigner(keyFile: signKey)) } catch { throw invalid("--sign-key: \(error)") }
        }
        describe(replay)
        var options = RunOptions(maxParallel: maxParallel, maxPerHost: maxPerHost, runID: runID)
        if let settle {
            guard let duration = DurationText.parse(settle) else { throw invalid("--settle \(settle): not a duration such as 10s") }
            options.settle = duration
        }
        // A drill's simulated hosts land late work by commands, not by time: a short settle will do.
        if world != nil, options.settle == nil { options.settle = .milliseconds(100) }
        let gate = try approval.gate(for: loaded.runbook, drill: world != nil, runID: runID, runsDirectory: runsDir, startedBy: replay.startedBy)
        if let world {
            let stateFile = StateFile(path: directory.fleetState.path)
            let fleet: Fleet
            do { fleet = try stateFile.read() } catch { throw invalid("\(error)") }
            // A drill in virtual time goes on in virtual time, from where its record ends.
            if let recorded = RecordedJournal.load(run: runID, in: runsDir), let clock = recorded.virtualClockContinuing() {
                options.clock = clock
                await journal.stamp(with: clock)
            }
            let simulator = FleetSimulator(fleet: fleet, connectTimeout: DrillCommand.connectTimeout, savingTo: stateFile, clock: options.clock)
            let transport = SimulatorTransport(simulator: simulator)
            let report = DrillCommand.Verdict()
            let runbook = loaded.runbook
            let virtualTime = options.clock.isVirtual
            let runParams = loaded.params
            let settle: @Sendable (RunSummary, JournalWriter) async -> Void = { summary, journal in
                await report.settle(DrillCommand.report(runbook, summary: summary, scenario: world, fleet: await simulator.fleet,
                                                        virtualTime: virtualTime, params: runParams), in: journal)
            }
            let summary = try await execute(loaded, transport: transport, options: options, gate: gate, output: output, journal: journal,
                                            redactor: redactor, observers: [transport], printSummary: false, resume: replay.state, beforeClose: settle)
            throw ExitCode(await report.print(redactor: redactor, final: summary))
        }
        // Its leases stay its own while it goes on; another run holding a host refuses the resume.
        let leases = HostLeases(runsDirectory: runsDir)
        do {
            try leases.take(loaded.inventory.hosts.map(\.name), for: runID)
        } catch {
            throw invalid("drctl resume: refused: \(error)")
        }
        let connections = ConnectionLog(echo: true, redactor: redactor)
        let summary = try await execute(loaded, transport: ssh.transport(for: loaded.inventory, events: connections, redactor: redactor,
                                                                                 outputDirectory: directory.outputs.path),
                                        options: options, gate: gate, output: output, journal: journal, redactor: redactor,
                                        connections: connections, resume: replay.state)
        if summary.outcome.isFinal { leases.release(run: runID) }
        throw ExitCode(summary.exitCode)
    }

    /// The runbook (unchanged, unless allowed), inventory and params the run started with.
    private func loadInputs(_ replay: JournalReplay) throws -> RunFlags.Loaded {
        guard let source = try? String(contentsOfFile: replay.runbookFile, encoding: .utf8) else {
            throw invalid("\(replay.runbookFile): the run's runbook is not there any more; put it back to resume")
        }
        let now = JournalChain.sha256(Data(source.utf8))
        if now != replay.runbookSHA256 && !allowChangedRunbook {
            throw invalid("""
            \(replay.runbookFile): the runbook changed since run \(runID) started (sha256 \(replay.runbookSHA256.prefix(12))… then, \(now.prefix(12))… now).
            Resuming would mix two versions of the procedure. Restore the original, or pass --allow-changed-runbook to resume with this one (finished steps are kept by id).
            """)
        }
        var problems: [String] = []
        var runbook: Runbook?
        var inventory = Inventory()
        do { runbook = try RunbookLoader.load(path: replay.runbookFile) } catch let invalid as InvalidInput { problems += invalid.diagnostics.map(\.description) }
        if let file = replay.inventoryFile, replay.drill == nil {
            do {
                inventory = try InventoryLoader.load(path: file)
                warnAboutShortSecrets(in: inventory)
            } catch let invalid as InvalidInput { problems += invalid.diagnostics.map(\.description) }
            if let recorded = replay.inventorySHA256, let text = try? String(contentsOfFile: file, encoding: .utf8),
               JournalChain.sha256(Data(text.utf8)) != recorded {
                print("Note: \(file) changed since the run started; resuming with it as it is now.")
            }
        }
        guard problems.isEmpty, let runbook else { throw failInvalidInput(problems) }
        return RunFlags.Loaded(runbook: runbook, inventory: inventory, params: replay.params)
    }

    /// A finished drill: its saved fleet against the scenario's checks.
    private func checkEndState(_ drill: JournalReplay.DrillInputs, _ directory: RunDirectory) throws -> Int32 {
        let world = try loadScenario(drill.scenarioFile, seed: drill.seed)
        let fleet: Fleet
        do { fleet = try StateFile(path: directory.fleetState.path).read() } catch { throw invalid("\(error)") }
        let verdicts = world.check(fleet)
        print("End state (the scenario's checks):")
        for verdict in verdicts { print("  \(verdict.passed ? "✓" : "✗") \(verdict.expectation): \(verdict.detail)") }
        let held = verdicts.filter(\.passed).count
        print(held == verdicts.count ? "DRILL PASSED: \(held) of \(verdicts.count) checks hold." : "DRILL FAILED: \(held) of \(verdicts.count) checks hold.")
        return held == verdicts.count ? 0 : 1
    }

    private func describe(_ replay: JournalReplay) {
        print("Resuming run \(runID) of \(replay.runbook) (attempt \(replay.attempts + 1)): \(replay.state.finished.count) finished item(s) kept.")
        for (key, label) in replay.state.inFlight.sorted(by: { $0.key.step < $1.key.step }) {
            print("  in flight when it stopped: \(key.step)\(label.isEmpty ? "" : " [\(label)]"); its verify check (or you) will say whether its change happened")
        }
    }

    private func invalid(_ message: String) -> ExitCode {
        writeError("drctl resume: \(message)")
        return ExitCode(ExitStatus.invalidInput)
    }
}
