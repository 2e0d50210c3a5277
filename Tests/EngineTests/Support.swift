import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat

/// A transport whose hosts answer from a script, with delays, recording when each command ran
/// and how many ran at once.
actor ScriptedTransport: Transport {
    struct Reply: Sendable {
        var stdout: String = ""
        var stderr: String = ""
        var exit: Int32 = 0
        var delay: Duration = .zero
        /// Keeps the command running until this other command has started (at most 60 s: a test
        /// that waits that long has failed, and `Record.sawUntil` says so).
        var until: String?
        /// No answer at all: the transport fails as for a host that is down.
        var unreachable = false
    }

    struct Record: Sendable {
        var host: String
        var command: String
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
        /// The order of this command's start and end among every start and end: decides "before"
        /// by events, not by the clock.
        var startEvent = 0
        var endEvent = 0
        /// The command it waited for (`Reply.until`) did start while it ran.
        var sawUntil = false
    }

    private let reply: @Sendable (String, String, Int) -> Reply
    private(set) var records: [Record] = []
    private var startedCommands: [String] = []
    private var callsPerCommand: [String: Int] = [:]
    private var running = 0
    private var eventCounter = 0
    private var runningPerHost: [String: Int] = [:]
    private(set) var maxRunning = 0
    private(set) var maxRunningPerHost: [String: Int] = [:]
    var probeStates: [String: Probe.State] = [:]

    /// `reply(host, command, callNumber)` decides each answer; callNumber counts from 1 per command.
    init(clock: (any RunClock)? = nil, _ reply: @escaping @Sendable (String, String, Int) -> Reply = { _, _, _ in Reply() }) {
        self.reply = reply
        self.clock = clock
    }

    /// With a clock, each answer's delay passes on it (virtual time) instead of the wall.
    private let clock: (any RunClock)?

    func setProbe(_ host: String, _ state: Probe.State) { probeStates[host] = state }

    /// The time each command was given (what was left of its attempt), in order.
    private(set) var timeouts: [Duration?] = []

    func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        timeouts.append(timeout)
        callsPerCommand[command, default: 0] += 1
        let answer = reply(host.name, command, callsPerCommand[command]!)
        if answer.unreachable { throw TransportError(.unreachable, host: host.name, detail: "no route to host") }
        let start = ContinuousClock.now
        running += 1
        runningPerHost[host.name, default: 0] += 1
        maxRunning = max(maxRunning, running)
        maxRunningPerHost[host.name] = max(maxRunningPerHost[host.name] ?? 0, runningPerHost[host.name]!)
        startedCommands.append(command)
        eventCounter += 1
        let startEvent = eventCounter
        // Like the real transports, a command that outlasts the time it was given is ended there.
        // (In real time the engine's own timer ends it: the transport keeps running, as a real one may.)
        let limited = clock != nil ? timeout.map { min($0, answer.delay) } ?? answer.delay : answer.delay
        if let clock { try? await clock.sleep(for: limited) } else { try? await Task.sleep(for: limited) }
        if let timeout, answer.delay > timeout, clock != nil {
            running -= 1
            runningPerHost[host.name]! -= 1
            eventCounter += 1
            records.append(Record(host: host.name, command: command, start: start, end: ContinuousClock.now, startEvent: startEvent, endEvent: eventCounter))
            throw TransportError(.commandTimedOut, host: host.name, detail: "`\(command)` did not finish within \(timeout)")
        }
        if let other = answer.until {
            let deadline = ContinuousClock.now + .seconds(60)
            while !startedCommands.contains(other), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        }
        running -= 1
        runningPerHost[host.name]! -= 1
        eventCounter += 1
        records.append(Record(host: host.name, command: command, start: start, end: ContinuousClock.now, startEvent: startEvent, endEvent: eventCounter,
                              sawUntil: answer.until.map(startedCommands.contains) ?? false))
        return CommandResult(stdout: answer.stdout, stderr: answer.stderr, exitStatus: answer.exit, duration: ContinuousClock.now - start)
    }

    func probe(_ request: ProbeRequest) async -> ProbeResult {
        let state = probeStates[request.host?.name ?? request.address] ?? .up
        return ProbeResult(state: state, detail: "scripted \(state.rawValue)")
    }

    var commands: [String] { records.map(\.command) }

    func record(_ command: String) -> Record? { records.first { $0.command == command } }
}

/// Collects every event, for assertions on order.
actor EventLog: RunObserver {
    private(set) var events: [RunEvent] = []
    func record(_ event: RunEvent) async { events.append(event) }

    var retryDelays: [Duration] {
        events.compactMap { if case .retrying(_, _, _, let delay, _) = $0 { return delay } else { return nil } }
    }
}

let testInventory = Inventory(hosts: ["h1", "h2", "h3", "h4", "h5"].map { Inventory.Host(name: $0, address: "10.0.0.\($0.dropFirst())") })

func loadRunbook(_ yaml: String) throws -> Runbook {
    try RunbookLoader.load(text: yaml, file: "test.yaml")
}

func runEngine(_ yaml: String, transport: ScriptedTransport, inventory: Inventory = testInventory, params: [String: String] = [:],
               gate: any ApprovalGate = AutoApproveGate(approver: "tester"), options: RunOptions = RunOptions(),
               log: EventLog = EventLog()) async throws -> RunSummary {
    let runbook = try loadRunbook(yaml)
    let engine = Engine(runbook: runbook, inventory: inventory, params: try ParameterBinding.bind(runbook, params), transport: transport,
                        gate: gate, observers: [log], options: options)
    return await engine.run()
}

extension RunSummary {
    func status(_ step: String, _ index: Int = 0) -> ItemOutcome.Status? {
        items(of: step).first { $0.item.index == index }?.outcome.status
    }
}
