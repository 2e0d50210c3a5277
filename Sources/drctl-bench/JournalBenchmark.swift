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
func journalBenchmarks(_ results: BenchResults) async throws {
    results.section("Engine, journal and replay",
                    "The engine with a transport that answers at once (2,000 VMs, two pipelined steps, 10 hosts); the same run journaled, every event on disk before the engine goes on (lines written together share an fsync); then a journal of about 100,000 events (12,500 VMs) replayed, as `drctl resume` does, and turned into the HTML report.")
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

    let replay = try await repeated { () async throws -> Double in
        let start = ContinuousClock.now
        guard let journal = RecordedJournal.load(run: run, in: runs) else { throw BenchError("journal \(run) did not load") }
        _ = try JournalReplay(journal)
        return Double(events) / (ContinuousClock.now - start).seconds
    }
    results.add("replay (load and rebuild the run): events per second", replay, format: Unit.perSecond, target: "≥ 200k/s", met: { $0 >= 200_000 })
    let report = try await repeated { () async throws -> Double in
        let start = ContinuousClock.now
        _ = try RunReport(run: run, runsDirectory: runs).html
        return (ContinuousClock.now - start).seconds
    }
    results.add("report (HTML) of that journal", report, format: Unit.seconds, target: "< 2 s", met: { $0 < 2 })
}
