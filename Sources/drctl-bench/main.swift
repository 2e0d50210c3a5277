import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat

// Benchmarks for `make bench`. They print figures; they assert nothing.

/// Answers every command at once, so what is measured is the engine itself.
struct InstantTransport: Transport {
    func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        CommandResult(stdout: "ok\n")
    }

    func probe(_ request: ProbeRequest) async -> ProbeResult { ProbeResult(state: .up, detail: "instant") }
}

func measure(_ repeats: Int, _ body: () async throws -> Void) async rethrows -> Duration {
    var samples: [Duration] = []
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try await body()
        samples.append(ContinuousClock.now - start)
    }
    return samples.sorted()[samples.count / 2]
}

func row(_ name: String, _ value: String) {
    print(name.padding(toLength: 58, withPad: " ", startingAt: 0) + value)
}

print("drctl benchmarks (median of repeated runs, release build)\n")

try await largeOutputBenchmark()
try await virtualTimeBenchmarks()

let runbookFiles = (try? FileManager.default.contentsOfDirectory(atPath: "Runbooks"))?.filter { $0.hasSuffix(".yaml") }.sorted() ?? []
for file in runbookFiles {
    let time = try await measure(20) { _ = try RunbookLoader.load(path: "Runbooks/\(file)") }
    row("validate Runbooks/\(file)", DurationText.format(time) + " (\(time.milliseconds > 0 ? "\(time.milliseconds) ms" : "\(Int(time.seconds * 1_000_000)) µs"))")
}

// The whole `drctl validate` process, as an operator runs it (start-up included).
let validateProcess = try await measure(5) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ".build/release/drctl")
    process.arguments = ["validate"] + runbookFiles.map { "Runbooks/\($0)" }
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
}
row("drctl validate Runbooks/*.yaml (whole process)", DurationText.format(validateProcess))

let items = 2000
let fanOut = """
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
"""
let hosts = (0..<10).map { "esxi-\($0)" }
let inventory = Inventory(hosts: hosts.map { Inventory.Host(name: $0, address: "127.0.0.1") })
let runbook = try RunbookLoader.load(text: fanOut, file: "bench.yaml")
let params: [String: Value] = ["vms": .list((0..<items).map { ["name": .string("vm-\($0)"), "host": .string(hosts[$0 % hosts.count])] })]
let engineTime = await measure(5) {
    let engine = Engine(runbook: runbook, inventory: inventory, params: params, transport: InstantTransport(),
                        gate: NonInteractiveGate(), options: RunOptions(maxParallel: 64, maxPerHost: 8))
    let summary = await engine.run()
    if summary.outcome != .succeeded {
        print("bench run failed: \(summary.failures.first?.outcome.reason ?? "\(summary.outcome)")")
        exit(1)
    }
}
let perItem = engineTime.seconds / Double(items * 2) * 1_000_000
row("engine: \(items) items x 2 pipelined steps, instant transport", "\(DurationText.format(engineTime)) total, \(Int(perItem)) µs per command")

// The same run journaled: every event is one fsync'd line before the engine goes on.
let runsDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bench-\(getpid())").path
var journaledRun = ""
let journaledTime = try await measure(3) {
    journaledRun = "run-\(UUID().uuidString.prefix(8))"
    let journal = try JournalWriter(directory: try RunDirectory.create(id: journaledRun, in: runsDirectory))
    let engine = Engine(runbook: runbook, inventory: inventory, params: params, transport: InstantTransport(),
                        gate: NonInteractiveGate(), observers: [journal], options: RunOptions(maxParallel: 64, maxPerHost: 8))
    _ = await engine.run()
    await journal.close()
}
let events = RecordedJournal.load(run: journaledRun, in: runsDirectory)?.entries.count ?? 1
row("journaled: the same run with every event fsync'd", "\(DurationText.format(journaledTime)) total, \(Int(journaledTime.seconds / Double(events) * 1_000_000)) µs per event (\(events) events)")
let replayTime = try await measure(3) { _ = try JournalReplay(RecordedJournal.load(run: journaledRun, in: runsDirectory)!) }
row("resume: replay that journal (\(items * 2) items)", DurationText.format(replayTime))
let reportTime = try await measure(3) { _ = try RunReport(run: journaledRun, runsDirectory: runsDirectory).html }
row("report: HTML of that run", DurationText.format(reportTime))
try? FileManager.default.removeItem(atPath: runsDirectory)

let template = try Template("vim-cmd solo/registervm {{ item.path }} {{ item.name }}")
let scope = DictionaryScope(["item": ["path": "/vmfs/volumes/ds1/web; reboot/web; reboot.vmx", "name": "web; reboot"]])
let renders = 100_000
let renderTime = try await measure(3) { for _ in 0..<renders { _ = try template.shellCommand(in: scope) } }
row("templates: \(renders) quoted command renders", "\(DurationText.format(renderTime)) (\(Int(renderTime.seconds / Double(renders) * 1_000_000_000)) ns each)")
