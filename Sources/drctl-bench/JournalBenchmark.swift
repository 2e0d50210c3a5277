import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat

/// Answers every command at once, so what is measured is the engine itself.
struct InstantTransport: Transport {
    func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        CommandResult(stdout: "ok\n")
    }

    func probe(_ request: ProbeRequest) async -> ProbeResult { ProbeResult(state: .up, detail: "instant") }
}

/// A fan-out of `items` VMs over 10 hosts, two pipelined steps each.
struct FanOutRun {
    let items: Int
    let runbook: Runbook
    let inventory: Inventory
    let params: [String: Value]

    init(items: Int) throws {
        self.items = items
        runbook = try RunbookLoader.load(text: """
        runbook: bench
        steps:
          - id: register
            foreach: "{{ params.vms }}"
            on: "{{ item.host }}"
            run: "register {{ item.name }}"
            capture: { id: '^(\\w+)$' }
          - id: power
            needs: [register]
            foreach: "{{ params.vms }}"
            on: "{{ item.host }}"
            run: "power {{ steps.register.id }}"
        params:
          - { name: vms, type: list }
        """, file: "bench.yaml")
        let hosts = (0..<10).map { "esxi-\($0)" }
        inventory = Inventory(hosts: hosts.map { Inventory.Host(name: $0, address: "127.0.0.1") })
        params = ["vms": .list((0..<items).map { ["name": .string("vm-\($0)"), "host": .string(hosts[$0 % hosts.count])] })]
    }

    func run(observers: [any RunObserver] = []) async throws {
        let engine = Engine(runbook: runbook, inventory: inventory, params: params, transport: InstantTransport(),
                            gate: NonInteractiveGate(), observers: observers, options: RunOptions(maxParallel: 64, maxPerHost: 8))
        let summary = await engine.run()
        guard summary.outcome == .succeeded else { throw BenchError("bench run failed: \(summary.outcome)") }
    }
}

/// The engine's own cost, journaling with fsync grouping, and replaying and reporting a journal of
/// 100,000 events (what `drctl resume` and `drctl report` read).
func journalBenchmarks(_ results: BenchResults, drctl: String) async throws {
    results.section("Engine, journal and replay",
                    "The engine with a transport that answers at once (2,000 VMs, two pipelined steps, 10 hosts); the same run journaled (every command here counts as a change, so each waits until its line is on disk; lines written together share an fsync); then a journal of about 100,000 events (12,500 VMs) replayed, as `drctl resume` does, and turned into the HTML report by `drctl report`, each in a process of its own.")
    let small = try FanOutRun(items: 2000)
    let engine = try await repeated { () async throws -> Double in
        let start = ContinuousClock.now
        try await small.run()
        return (ContinuousClock.now - start).seconds / Double(small.items * 2) * 1_000_000
    }
    results.add("engine alone: wall time per command", engine, format: Unit.microseconds)

    let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bench-journal-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: runs) }
    let large = try FanOutRun(items: 12_500)
    var run = ""
    var events = 0
    let journaled = try await repeated { () async throws -> Double in
        run = "run-\(UUID().uuidString.prefix(8))"
        let journal = try JournalWriter(directory: try RunDirectory.create(id: run, in: runs))
        let start = ContinuousClock.now
        try await large.run(observers: [journal])
        await journal.close()
        let elapsed = ContinuousClock.now - start
        events = RecordedJournal.load(run: run, in: runs)?.entries.count ?? 0
        return Double(events) / elapsed.seconds
    }
    results.add("journaled run: events per second (\(events) events)", journaled, format: Unit.perSecond)
    let bytes = (try? FileManager.default.attributesOfItem(atPath: "\(runs)/\(run)/journal.jsonl")[.size] as? Int) ?? 0
    if bytes > 0 { results.note("The journal holds \(bytes / max(events, 1)) bytes per event.") }

    // Each replay and report in a fresh process, as an operator's `drctl resume` and `drctl report`
    // are: not in this one, whose heap holds five journaled runs by now.
    let replay = try await repeated { () async throws -> Double in
        let output = "\(runs)/replay-rate.txt"
        let process = try timedProcess(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, ["replay", runs, run], stdout: output)
        guard process.status == 0, let rate = Double((try? String(contentsOfFile: output, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
            throw BenchError("replaying \(run) failed (exit \(process.status))")
        }
        return rate
    }
    results.add("replay (load and rebuild the run, in a process of its own): events per second", replay, format: Unit.perSecond, target: "≥ 200k/s", met: { $0 >= 200_000 })
    let report = try await repeated { () async throws -> Double in
        let process = try timedProcess(drctl, ["report", run, "--runs-dir", runs, "--format", "html", "-o", "\(runs)/report.html"])
        guard process.status == 0 else { throw BenchError("drctl report \(run) failed (exit \(process.status))") }
        return process.wall
    }
    results.add("drctl report --format html of that journal (whole process)", report, format: Unit.seconds, target: "< 2 s", met: { $0 < 2 })
}

/// Loads a recorded run and rebuilds its state, as `drctl resume` does: events per second, timed
/// up to the rebuilt state (freeing it is not replay).
func replayRate(runs: String, run: String) throws -> Double {
    let start = ContinuousClock.now
    guard let journal = RecordedJournal.load(run: run, in: runs) else { throw BenchError("journal \(run) did not load") }
    return try withExtendedLifetime(journal) {
        let replayed = try JournalReplay(journal)
        let elapsed = (ContinuousClock.now - start).seconds
        withExtendedLifetime(replayed) {}
        return Double(journal.entries.count) / elapsed
    }
}
