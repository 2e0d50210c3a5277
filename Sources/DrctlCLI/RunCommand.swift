import CProcessHardening
import ArgumentParser
import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a runbook against the hosts of an inventory, or show its plan with --dry-run.",
        discussion: HelpText.unwrapped("""
        --dry-run changes nothing: read-only steps run so fan-outs expand to real VM names, and the
        plan lists every command that would run, on which host, in which order, behind which
        approval. Add --offline to contact nothing at all.

        Ctrl-C stops starting new work; running commands finish or time out; a second Ctrl-C quits.

        Example:
          drctl run Runbooks/host-failure.yaml --inventory site.yaml --param failed_host=esxi-01 --dry-run
        """)
    )

    @Argument(help: "The runbook file.", completion: Completion.yamlFile)
    var runbook: String

    @OptionGroup var common: RunFlags

    @Flag(help: "Show the plan; change nothing.")
    var dryRun = false

    @Flag(help: "With --dry-run: contact no host at all.")
    var offline = false

    @OptionGroup var ssh: SSHFlags

    @Flag(help: "Run even if another run holds a lease on these hosts (recorded in the run's journal).")
    var ignoreLeases = false

    func validate() throws {
        if offline && !dryRun { throw ValidationError("--offline only goes with --dry-run") }
        if common.inventory == nil && !offline { throw ValidationError("--inventory FILE is required (except with --dry-run --offline)") }
    }

    func run() async throws {
        Interrupts.shared.install()
        _ = common.output.prepareConsole()
        let loaded = try common.load(runbookPath: runbook)
        let options = common.options(dryRun: dryRun, offline: offline)
        let gate = try common.approval.gate(for: loaded.runbook, drill: false, runID: options.runID, runsDirectory: common.runsDir)
        let redactor = Redactor(patterns: loaded.runbook.redact)
        let connections = ConnectionLog(echo: true, redactor: redactor)
        let transport: any Transport = offline ? OfflineTransport() : ssh.transport(for: loaded.inventory, events: connections, redactor: redactor,
                                                                                          outputDirectory: RunDirectory.outputs(id: options.runID, in: common.runsDir))
        // One run per host at a time: a run that may change hosts leases them first.
        let leases = HostLeases(runsDirectory: common.runsDir)
        if !dryRun && !ignoreLeases {
            do {
                try leases.take(loaded.inventory.hosts.map(\.name), for: options.runID)
            } catch let refused as HostLeases.Refused {
                throw failInvalidInput(["drctl run: refused: \(refused)"])
            } catch {
                throw failInvalidInput(["drctl run: cannot take the host leases in \(common.runsDir)/leases: \(error)"])
            }
        }
        let flags = common.approval.recorded + (ignoreLeases && !dryRun ? ["--ignore-leases"] : []) + (ssh.acceptNewHostKeys ? ["--accept-new-host-keys"] : [])
        let journal = try await newJournal(loaded, runID: options.runID, runsDirectory: common.runsDir, redactor: redactor,
                                           flags: flags, operatorGivenName: common.approval.givenName, signer: try common.signer())
        let summary = try await execute(loaded, transport: transport, options: options,
                                        gate: gate, output: common.output,
                                        journal: journal, redactor: redactor, connections: connections)
        if summary.outcome.isFinal { leases.release(run: options.runID) }
        throw ExitCode(summary.exitCode)
    }
}

/// Flags shared by `run` and `drill`.
struct RunFlags: ParsableArguments {
    @Option(help: "The inventory file: hosts, datastores, VM priorities.", completion: Completion.yamlFile)
    var inventory: String?

    @Option(name: .customLong("param"), help: "A runbook param as name=value (repeatable).")
    var params: [String] = []

    @Option(help: "Most commands running at once (default: the runbook's, else 32).")
    var maxParallel: Int?

    @Option(help: "Most commands running at once on one host (default: the runbook's, else 4).")
    var maxPerHost: Int?

    @OptionGroup var approval: ApprovalFlags

    @OptionGroup var output: OutputFlags

    @Option(help: "Where runs are recorded: one directory per run, with its journal and full outputs.", completion: .directory)
    var runsDir = defaultRunsDirectory

    @Option(help: "An ed25519 key file (drctl transcript keygen): sign the journal's checkpoints with it.", completion: .file())
    var signKey: String?

    /// The signer for `--sign-key`, or exit 2 naming what is wrong with the key.
    func signer() throws -> JournalSigner? {
        guard let signKey else { return nil }
        do { return try JournalSigner(keyFile: signKey) } catch { throw failInvalidInput(["--sign-key: \(error)"]) }
    }

    func validate() throws {
        if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1") }
        if let maxPerHost, maxPerHost < 1 { throw ValidationError("--max-per-host must be at least 1") }
    }

    struct Loaded {
        var runbook: Runbook
        var inventory: Inventory
        var params: [String: Value]
    }

    /// Loads and checks everything up front: bad input exits 2 before anything runs.
    func load(runbookPath: String, inventoryRequired: Bool = true) throws -> Loaded {
        var problems: [String] = []
        var runbook: Runbook?
        var inventory = Inventory()
        do { runbook = try RunbookLoader.load(path: runbookPath) } catch let invalid as InvalidInput { problems += invalid.diagnostics.map(\.description) }
        if let path = self.inventory {
            do {
                inventory = try InventoryLoader.load(path: path)
                warnAboutShortSecrets(in: inventory)
            } catch let invalid as InvalidInput { problems += invalid.diagnostics.map(\.description) }
        }
        if let runbook, self.inventory != nil, problems.isEmpty {
            problems += RunbookValidator.checkHosts(of: runbook, against: inventory).map(\.description)
        }
        guard problems.isEmpty, let runbook else { throw failInvalidInput(problems) }
        // A drill binds params after it has the scenario's inventory.
        if !inventoryRequired { return Loaded(runbook: runbook, inventory: inventory, params: [:]) }
        do {
            let params = try ParameterBinding.bind(runbook, try ParameterBinding.parsePairs(self.params), inventory: inventory)
            return Loaded(runbook: runbook, inventory: inventory, params: params)
        } catch let problem as ParameterBinding.Problem {
            throw failInvalidInput(problem.description.split(separator: "\n").map(String.init))
        }
    }

    func options(dryRun: Bool, offline: Bool) -> RunOptions {
        RunOptions(dryRun: dryRun, offline: offline, maxParallel: maxParallel, maxPerHost: maxPerHost, runID: RunIdentifier.make())
    }
}

/// The journal of a new run, in a directory of its own; exit 2 when it cannot be created.
func newJournal(_ loaded: RunFlags.Loaded, runID: String, runsDirectory: String, redactor: Redactor,
                drill: RunHeader.Drill? = nil, flags: [String] = [], operatorGivenName: String? = nil,
                signer: JournalSigner? = nil) async throws -> JournalWriter {
    let inventoryFile = loaded.inventory.file.isEmpty ? nil : absolutePath(loaded.inventory.file)
    var header = RunHeader(runbookFile: absolutePath(loaded.runbook.file), runbookSource: loaded.runbook.source, inventoryFile: inventoryFile,
                           inventorySource: inventoryFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) },
                           hosts: loaded.inventory.hosts.map { "\($0.name) \($0.address)" },
                           steps: loaded.runbook.steps.map(RunHeader.StepInfo.init(step:)), rto: loaded.runbook.rto, drill: drill)
    header.flags = flags
    header.operatorGivenName = operatorGivenName
    header.signedBy = signer?.publicKeyHex
    do {
        let journal = try JournalWriter(directory: try RunDirectory.create(id: runID, in: runsDirectory), header: header, redactor: redactor)
        if let signer { await journal.sign(with: signer) }
        return journal
    } catch {
        writeError("drctl: \(error)")
        throw ExitCode(ExitStatus.invalidInput)
    }
}

/// The command that goes on with a run, naming its runs directory unless it is the default.
func resumeCommand(_ directory: RunDirectory) -> String {
    "drctl resume \(directory.id)" + runsDirectoryFlag(directory)
}

/// ` --runs-dir DIR` when the run is not under ./runs, for commands printed to type.
func runsDirectoryFlag(_ directory: RunDirectory) -> String {
    let runs = directory.url.deletingLastPathComponent().path
    return runs == absolutePath(defaultRunsDirectory) ? "" : " --runs-dir \(runs)"
}

/// Journals name input files absolutely, so `drctl resume` finds them from any directory.
func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}

extension RunHeader.StepInfo {
    init(step: Step) {
        var action: String?
        if case .action(let call) = step.kind { action = call.name }
        if case .wait(let wait) = step.kind, case .action(let call) = wait.check { action = call.name }
        self.init(id: step.id, title: step.title, kind: step.kind.name, action: action, mutates: step.mutates)
    }
}

/// Runs the engine with console output, the run's journal, and Ctrl-C handling. With `resume`,
/// it goes on with an interrupted run instead of starting one.
@discardableResult
func execute(_ loaded: RunFlags.Loaded, transport: any Transport, options: RunOptions, gate: any ApprovalGate, output: OutputFlags,
             journal: JournalWriter, redactor: Redactor, connections: ConnectionLog? = nil, observers: [any RunObserver] = [],
             printSummary: Bool = true, resume: ResumeState? = nil,
             beforeClose: (@Sendable (RunSummary, JournalWriter) async -> Void)? = nil) async throws -> RunSummary {
    connections?.record(into: journal)
    let style = output.prepareConsole()
    let progress = RunProgress(stepsTotal: loaded.runbook.steps.count, rto: loaded.runbook.rto, started: resume?.runStarted ?? options.clock.date(),
                               clock: options.clock, redactor: redactor)
    let machines: [any RunObserver] = output.events == .json ? [EventStream(run: options.runID, redactor: redactor)] : []
    // The journal first: each event is on disk before anyone acts on it.
    let engine = Engine(runbook: loaded.runbook, inventory: loaded.inventory, params: loaded.params, transport: transport, gate: gate,
                        observers: [journal, ConsoleReporter(verbose: output.verbose, dryRun: options.dryRun, redactor: redactor, style: style), progress]
                            + machines + observers,
                        options: options, resume: resume)
    let verb = resume != nil ? "resume" : options.dryRun ? "dry-run" : "run"
    print("drctl \(verb) \(loaded.runbook.name) (run \(options.runID), recorded in \(journal.directory.url.path))")
    Interrupts.shared.install()
    let consoleLoss = ConsoleLossRecord(journal: journal)
    Console.shared.whenLost { reason in consoleLoss.record(reason) }
    Interrupts.shared.attach { engine.requestStop() }
    let live = LiveStatus(progress: progress, style: style, heartbeat: output.heartbeatInterval)
    live.start()
    var summary = await engine.run()
    live.stop()
    Interrupts.shared.detach()
    defer { if Interrupts.shared.terminated, summary.outcome == .interrupted { Foundation.exit(ExitStatus.terminated) } }
    // The record's end is written before anything is said of the run: what it says must be on disk.
    // What the run's last lines must say (a drill's verdict) is recorded before the head is taken.
    if let beforeClose { await beforeClose(summary, journal) }
    await consoleLoss.written()
    await journal.close()
    if summary.recordLost == nil, let lost = await journal.recordLost() {
        // The end of the record is missing: whatever the hosts show, the run cannot be called done.
        summary.outcome = .recordLost
        summary.recordLost = lost
    }
    if options.dryRun { print(redactor.redact(SummaryPrinter.plan(summary, offline: options.offline))) }
    if printSummary { print(redactor.redact(SummaryPrinter.summary(summary))) }
    if let lost = summary.recordLost {
        writeError("drctl: the run's record could not be written: \(lost). drctl stopped there: no host was changed after that "
                   + "(commands already running were let finish). Free the space or fix the disk, then go on with: \(resumeCommand(journal.directory))")
    }
    if summary.outcome == .interrupted || summary.outcome == .awaitingApproval || summary.outcome == .recordLost, !options.dryRun {
        let runsFlag = runsDirectoryFlag(journal.directory)
        for waiting in summary.approvals where waiting.decision == .unavailable || waiting.decision == .interrupted {
            print("To approve \(waiting.step) from any terminal: drctl approve \(journal.directory.id) \(waiting.step)\(runsFlag) --reason TEXT"
                  + " (or: drctl deny \(journal.directory.id) \(waiting.step)\(runsFlag) --reason TEXT)")
        }
        print("To go on from here: \(resumeCommand(journal.directory))")
    }
    if !options.dryRun {
        // An anchor outside the run's directory is what makes a rewritten record detectable.
        print("Journal head: sha256 \(await journal.head). Keep it with the incident ticket: "
              + "`drctl transcript verify \(journal.directory.id) --expect HASH` proves no recorded line up to it was rewritten.")
    }
    return summary
}

/// Where runs are recorded unless `--runs-dir` says: `$DRCTL_RUNS_DIR`, else `./runs`.
let defaultRunsDirectory = ProcessInfo.processInfo.environment["DRCTL_RUNS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "runs"

enum RunIdentifier {
    /// `20261126-145800-3f2a9c01`: sortable, and 32 random bits, so that runs started in the same
    /// second by several operators sharing a runs directory never collide.
    static func make() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return formatter.string(from: Date()) + "-" + String(repeating: "0", count: 8 - random.count) + random
    }
}

/// Ctrl-C (and SIGTERM) for `run`, `drill` and `resume`; SIGHUP and SIGPIPE never stop a run
/// (a dropped SSH session to the jump host, `| head`, quitting `less`): the console is marked
/// lost, the journal says so, and the run goes on. Before the engine starts: quit at once
/// with 130 (143 for SIGTERM; nothing was sent). While it runs: the first stops dispatching, the
/// run ends paused and resumable, exit 130 or 143; a second Ctrl-C quits at once. The
/// signal only writes a byte to a pipe (`drctl_signal_to_pipe`) that a thread of its own reads, so
/// none is lost however busy the process is. Installed as the command starts: a Ctrl-C that came
/// before would meet whatever the parent left (an ignored SIGINT is simply dropped, a blocked one
/// never delivered: the reader thread unblocks both signals for itself).
final class Interrupts: @unchecked Sendable {
    static let shared = Interrupts()

    private let lock = NSLock()
    private var installed = false
    private var onFirst: (@Sendable () -> Void)?
    private var count = 0
    /// A SIGTERM came (a service manager or `kill`): the run ends with 143 rather than 130.
    private(set) var terminated = false

    func install() {
        let first = lock.withLock { () -> Bool in
            defer { installed = true }
            return !installed
        }
        guard first else { return }
        var descriptors: [Int32] = [0, 0]
        Foundation.pipe(&descriptors)
        _ = drctl_signal_to_pipe(SIGINT, descriptors[1])
        _ = drctl_signal_to_pipe(SIGTERM, descriptors[1])
        _ = drctl_signal_to_pipe(SIGHUP, descriptors[1])
        // A write to a pipe whose reader went away fails with EPIPE instead (Console).
        Foundation.signal(SIGPIPE, SIG_IGN)
        let reader = descriptors[0]
        Thread { [self] in
            // This thread takes the signals even if drctl was started with them blocked.
            _ = drctl_unblock_signal(SIGINT)
            _ = drctl_unblock_signal(SIGTERM)
            _ = drctl_unblock_signal(SIGHUP)
            var byte: UInt8 = 0
            while read(reader, &byte, 1) == 1 { handle(Int32(byte)) }
        }.start()
    }

    /// The engine is running: the first Ctrl-C calls `stop`.
    func attach(_ stop: @escaping @Sendable () -> Void) {
        lock.withLock {
            onFirst = stop
            count = 0
        }
    }

    /// The engine is done: a Ctrl-C now ends the process.
    func detach() {
        lock.withLock { onFirst = nil }
    }

    private func handle(_ signal: Int32) {
        if signal == SIGHUP { return Console.shared.consoleLost("the terminal hung up (SIGHUP)") }
        let (stop, seen) = lock.withLock { () -> ((@Sendable () -> Void)?, Int) in
            count += 1
            if signal == SIGTERM { terminated = true }
            return (onFirst, count)
        }
        guard let stop, seen == 1 else { Foundation.exit(signal == SIGTERM ? ExitStatus.terminated : ExitStatus.interrupted) }
        writeError("\n\(signal == SIGTERM ? "Terminated (SIGTERM)" : "Interrupted"): no new steps will start; waiting for running commands (Ctrl-C again to quit now).")
        // A question open now gets no answer: nobody decided anything.
        TerminalPrompt.shared.interrupt()
        stop()
    }
}
