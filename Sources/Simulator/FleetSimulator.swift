import DrctlCore
import Engine
import ESXi
import Foundation
import RunbookFormat

/// The in-process simulator: one fleet shared by every command of a drill.
public actor FleetSimulator {
    public private(set) var fleet: Fleet
    /// How long a hung host keeps a client waiting before its connect attempt times out.
    let connectTimeout: Duration
    private(set) var firedFaults: [String] = []
    /// Where the fleet is saved after every command, so a drill killed at any instant can be
    /// resumed against the world exactly as its hosts left it.
    private let stateFile: StateFile?
    /// The drill's clock: in virtual time a command's latency, a hung host's silence and a
    /// blocked command's wait pass only when all else waits (`VirtualClock`).
    private let clock: any RunClock
    /// The fleet's time when this simulator took it over: a resumed drill's clock starts again at
    /// zero, and the fleet's time goes on from where the killed drill left it.
    private let timeBase: Int
    /// When each host's session is (or will be) open: the SSH handshake is paid once per host,
    /// and commands sent while it is under way wait for it, as drctl's one session per host does.
    private var sessionReady: [String: Int] = [:]
    /// In virtual time, commands sent at one instant change the fleet one at a time in a fixed
    /// order (by host, then command), not in the order their tasks happen to arrive: the same
    /// drill registers the same VMs under the same vmids and times every run.
    private let turn: AsyncLimiter?
    /// Blocked commands asleep until the fleet changes (virtual time).
    private var blocked: [EarlyWake] = []

    public init(fleet: Fleet, connectTimeout: Duration = .seconds(5), savingTo stateFile: StateFile? = nil, clock: any RunClock = SystemClock()) {
        self.fleet = fleet
        self.connectTimeout = connectTimeout
        self.stateFile = stateFile
        self.clock = clock
        timeBase = fleet.now
        turn = clock.isVirtual ? AsyncLimiter(limit: 1, clock: clock) : nil
    }

    /// By host, then command, then the engine's rank of the work that sent it (several items may
    /// send the same `getallvms` to one host at one instant).
    private func takeTurn(_ host: String, _ command: String) async {
        guard let turn else { return }
        let sender = AsyncLimiter.currentRank?.sortKey ?? ""
        await turn.acquire(rank: AsyncLimiter.Rank(step: 0, item: 0, host: "\(host)\u{1}\(command)\u{1}\(sender)"))
    }

    private var fleetTime: Int { timeBase + clock.milliseconds }

    /// Saves what a command did, before it answers, as a real host has applied a change before
    /// drctl hears of it: the command goes to the state file's log (a whole snapshot every 256).
    /// A read that changed nothing is not saved, unless commands still count (`commandsCount`).
    private func save(_ change: StateFile.Change, changed: Bool) throws {
        guard let stateFile, changed || fleet.commandsCount else { return }
        var change = change
        change.sequence = (fleet.stateSequence ?? 0) + 1
        fleet.stateSequence = change.sequence
        if change.sequence % 256 == 0 {
            try stateFile.create(fleet)
        } else {
            try stateFile.append(change)
        }
        if change.command != nil, changed, Failpoint.reached("host-change") { Failpoint.crash() }
    }

    /// Runs a command as `host` would answer it, with latency, faults and blocking.
    public func execute(_ command: String, on host: String, timeout: Duration?) async throws -> CommandResult {
        let started = clock.date()
        let begun = clock.elapsed
        // Past the attempt's deadline the command is ended, as the SSH transport ends it.
        func timedOut() -> TransportError {
            TransportError(.commandTimedOut, host: host, detail: "`\(command)` did not finish within \(DurationText.format(timeout ?? .zero))",
                           hint: "it may still take effect on the host")
        }
        try await reach(host)
        if let index = fleet.hostIndex(host), fleet.hosts[index].commandsStall == true {
            // Nothing comes back: the client's deadline ends it (a day at most without one).
            try? await clock.sleep(for: timeout ?? .seconds(86_400))
            throw timedOut()
        }
        if let delay = duration(of: command, on: host) {
            if let timeout, delay > timeout {
                try? await clock.sleep(for: timeout)
                throw timedOut()
            }
            try? await clock.sleep(for: delay)
        }
        await takeTurn(host, command)
        let sentAt = fleetTime
        fleet.advance(to: sentAt)
        let changesBefore = fleet.changeLog.count
        var outcome = Interpreter.run(command, on: host, fleet: &fleet)
        let fired = fleet.fireDueFaults()
        noteFired(fired)
        if fleet.changeLog.count > changesBefore || !fired.isEmpty { wakeBlockedCommands() }
        do { try save(StateFile.Change(sequence: 0, at: sentAt, host: host, command: command), changed: fleet.changeLog.count > changesBefore || !fired.isEmpty) } catch {
            turn?.release()
            throw error
        }
        turn?.release()
        while case .waiting(let wait) = outcome {
            // Like ESXi, the command blocks until something else (an answer) changes the VM.
            try await waitForChange(until: timeout.map { begun + $0 })
            // After the commands sent at this instant, so an answer sent now is seen now.
            await takeTurn(host, "~ \(command)")
            defer { turn?.release() }
            fleet.advance(to: fleetTime)
            if let timeout, clock.elapsed - begun >= timeout { throw timedOut() }
            if let index = fleet.hostIndex(host), fleet.hosts[index].state != .up {
                throw TransportError(.sessionDropped, host: host, detail: "the host went \(fleet.hosts[index].state.rawValue) while `\(command)` ran")
            }
            if let output = Interpreter.resume(wait, fleet: fleet) { outcome = .finished(output) }
        }
        guard case .finished(let output) = outcome else {
            throw TransportError(.sessionDropped, host: host, detail: "the connection dropped while `\(command)` ran (simulated)",
                                 hint: "the command may or may not have taken effect; check before repeating it")
        }
        return CommandResult(stdout: output.stdout, stderr: output.stderr, exitStatus: output.exitStatus, started: started,
                             duration: clock.elapsed - begun)
    }

    /// Fails like a real connection would when the host is down, hung or unknown.
    private func reach(_ host: String) async throws {
        if let vcenter = fleet.vcenter, host == vcenter.hostName {
            guard ApplianceShell.isRunning(at: host, in: fleet) else {
                throw TransportError(.unreachable, host: host, detail: "no route to the appliance (its VM is powered off)")
            }
            return
        }
        guard let index = fleet.hostIndex(host) else {
            // The drill's only world is the fleet: anything else is refused, never contacted.
            throw TransportError(.unreachable, host: host, detail: "not a host of the simulated fleet")
        }
        switch fleet.hosts[index].state {
        case .up: return
        case .down: throw TransportError(.refused, host: host, detail: "the host is down", hint: "check the host's power and management network")
        case .hung:
            try await clock.sleep(for: connectTimeout)
            throw TransportError(.timedOut, host: host, detail: "the host accepted TCP but sent no SSH banner within \(connectTimeout)",
                                 hint: "the host is hung; check its console")
        }
    }

    /// How long the command takes before it answers: the network's latency, plus in virtual time
    /// what ESXi takes over this kind of command (and the first command's SSH handshake).
    private func duration(of command: String, on host: String) -> Duration? {
        // In virtual time a draw is keyed by when the command is sent, not by how many came
        // before it: tasks due at one instant reach the fleet in any order, and the same seed
        // must give the same times.
        let now = fleetTime
        let occurrence = clock.isVirtual ? "at \(now)" : String((fleet.occurrences["\(host)\u{1}\(command)"] ?? 0) + 1)
        var total = 0
        if let latency = fleet.latency, latency.fixed + latency.jitter > 0 {
            let jitter = Double(latency.jitter) * SeededRandom.unit(seed: fleet.seed, key: "latency/\(host)/\(command)/\(occurrence)")
            total += latency.fixed + Int(jitter)
        }
        if let timing = fleet.timing {
            let ready = sessionReady[host] ?? (now + timing.time(of: .sshConnect, seed: fleet.seed, key: host))
            sessionReady[host] = ready
            total += max(0, ready - now)
            let key = "\(host)/\(command)/\(occurrence)"
            total += CommandDurations.kinds(of: command).map { kind in
                let each = timing.time(of: kind, seed: fleet.seed, key: key)
                return kind == .rescanPerAdapter ? each * (fleet.hostIndex(host).flatMap { fleet.hosts[$0].storageAdapters } ?? 2) : each
            }.max() ?? 0
        }
        return total > 0 ? .milliseconds(total) : nil
    }

    public func probe(_ request: ProbeRequest) async -> ProbeResult {
        fleet.advance(to: fleetTime)
        let answer = SimulatedProbe.answer(request, fleet: fleet, connectTimeout: connectTimeout)
        if let wait = answer.after { try? await clock.sleep(for: wait) }
        return answer.result
    }

    /// Until the fleet changes (or `deadline`): in virtual time asleep until woken, in real time
    /// checking every 5 ms.
    private func waitForChange(until deadline: Duration?) async throws {
        guard let virtual = clock as? VirtualClock else { return try await clock.sleep(for: .milliseconds(5)) }
        let signal = EarlyWake()
        blocked.append(signal)
        defer { blocked.removeAll { $0 === signal } }
        // Nothing may ever answer: a day of virtual time then passes, as the blocked command would.
        // Woken early or not, the caller looks at the fleet again.
        _ = await withTaskCancellationHandler {
            await virtual.sleep(for: deadline.map { $0 - clock.elapsed } ?? .seconds(86_400), orUntil: signal)
        } onCancel: {
            virtual.wakeEarly(signal)
        }
        try Task.checkCancellation()
    }

    private func wakeBlockedCommands() {
        guard let virtual = clock as? VirtualClock else { return }
        for signal in blocked { virtual.wakeEarly(signal) }
    }

    /// Fires `after_step` faults.
    public func stepFinished(_ step: String) {
        let fired = fleet.fireDueFaults(finishedStep: step)
        noteFired(fired)
        if !fired.isEmpty { wakeBlockedCommands() }
        if !fired.isEmpty { try? save(StateFile.Change(sequence: 0, at: fleetTime, finishedStep: step), changed: true) }
    }

    private func noteFired(_ faults: [String]) {
        firedFaults += faults
    }

    public var faultsFired: [String] { firedFaults }
}

/// The simulator as the engine's transport, and as an observer so faults can fire after a step.
public struct SimulatorTransport: Transport, RunObserver {
    public let simulator: FleetSimulator
    private let stepItems: StepCompletion

    public init(simulator: FleetSimulator) {
        self.simulator = simulator
        stepItems = StepCompletion()
    }

    public func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        try await simulator.execute(command, on: host.name, timeout: timeout)
    }

    public func probe(_ request: ProbeRequest) async -> ProbeResult {
        await simulator.probe(request)
    }

    public func record(_ event: RunEvent) async {
        switch event {
        case .itemStarted(let step, _): await stepItems.started(step)
        case .itemFinished(let step, _, _):
            if await stepItems.finished(step) { await simulator.stepFinished(step) }
        default: break
        }
    }
}

/// Counts running items per step, to tell when a step has finished.
public actor StepCompletion {
    private var running: [String: Int] = [:]

    public init() {}

    public func started(_ step: String) { running[step, default: 0] += 1 }

    /// True when the last running item of the step finished.
    public func finished(_ step: String) -> Bool {
        running[step, default: 1] -= 1
        return running[step]! <= 0
    }
}

/// How the fleet answers a reachability probe: shared by the in-process simulator and drills
/// over SSH, whose probes are answered from the state file.
public enum SimulatedProbe {
    /// The result, and how long a real client would wait before getting it (a hung host).
    public static func answer(_ request: ProbeRequest, fleet: Fleet, connectTimeout: Duration) -> (result: ProbeResult, after: Duration?) {
        let name = request.host?.name ?? fleet.hosts.first { $0.address == request.address }?.name ?? request.address
        if let vcenter = fleet.vcenter, name == vcenter.hostName || request.address == vcenter.address {
            let vmOn = ApplianceShell.isRunning(at: vcenter.hostName, in: fleet)
            if request.method == .https {
                // rhttpproxy answers TLS as soon as the appliance is up, and 503 until vpxd runs.
                if !vmOn { return (ProbeResult(state: .down, detail: "\(vcenter.address):\(request.port): no route to host"), nil) }
                if vcenter.isBooting { return (ProbeResult(state: .down, detail: "\(vcenter.address):\(request.port): connection refused (the appliance is booting)"), nil) }
                let path = request.paths.first ?? "/ui/"
                return vcenter.servicesRunning
                    ? (ProbeResult(state: .up, detail: "https://\(vcenter.address)\(path) answered HTTP 200"), nil)
                    : (ProbeResult(state: .down, detail: "https://\(vcenter.address)\(path) answered HTTP 503 (the reverse proxy runs, vpxd does not)"), nil)
            }
            if request.method == .tcp && request.port == 443 {
                return (vmOn && vcenter.servicesRunning
                    ? ProbeResult(state: .up, detail: "\(vcenter.address):443 accepted the connection")
                    : ProbeResult(state: .down, detail: vmOn ? "\(vcenter.address):443 refused: vCenter services are stopped" : "\(vcenter.address):443: no route to host"), nil)
            }
            return (vmOn ? ProbeResult(state: .up, detail: "SSH to \(name) answered" + (vcenter.isBooting ? " (the appliance is still booting)" : ""))
                         : ProbeResult(state: .down, detail: "\(vcenter.address): no route to host"), nil)
        }
        guard let index = fleet.hostIndex(name) else {
            return (ProbeResult(state: .down, detail: "\(request.address) is not part of the simulated fleet"), nil)
        }
        let host = fleet.hosts[index]
        switch host.state {
        case .up:
            return (ProbeResult(state: .up, detail: request.method == .ssh ? "SSH login to \(host.address) as root succeeded" : "\(host.address):\(request.port) accepted the connection"), nil)
        case .down:
            return (ProbeResult(state: .down, detail: "\(host.address):\(request.port): connection refused"), nil)
        case .hung:
            if request.method != .ssh { return (ProbeResult(state: .up, detail: "\(host.address):\(request.port) accepted TCP (the host may still be hung)"), nil) }
            let wait = min(request.timeout, connectTimeout)
            return (ProbeResult(state: .down, detail: "\(host.address) accepted TCP but sent no SSH banner within \(wait)"), wait)
        }
    }
}
