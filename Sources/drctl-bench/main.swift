import Foundation

// `make bench`: figures, side by side, written to bench/results.md. They assert nothing; the
// goals are issue 15's and the table says which are met.

// `drctl-bench replay RUNS RUN`: one replay in a process of its own, as `drctl resume` starts one
// (the journal section runs it); prints the events replayed per second.
if CommandLine.arguments.count == 4, CommandLine.arguments[1] == "replay" {
    print(try replayRate(runs: CommandLine.arguments[2], run: CommandLine.arguments[3]))
    exit(0)
}

let results = BenchResults()
let drctl = ".build/release/drctl"
let work = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }
let machine = machineDescription()
say("drctl benchmarks: release build, median of \(BenchResults.runs) runs (BENCH_RUNS raises it)")

// BENCH_ONLY=makespan,fan-out runs some sections (their table goes to .build/bench-partial.md).
let only = ProcessInfo.processInfo.environment["BENCH_ONLY"].map { Set($0.split(separator: ",").map(String.init)) }
func wanted(_ section: String) -> Bool { only?.contains(section) ?? true }

if wanted("output") { try await largeOutputBenchmark(results) }  // first: its peak RSS is this process's high-water mark
if wanted("makespan") { try await makespanBenchmark(results, drctl: drctl, work: work) }
if wanted("fan-out") { try await fanOutBenchmark(results, drctl: drctl, work: work) }
if wanted("journal") { try await journalBenchmarks(results, drctl: drctl) }
if wanted("virtual") { try await virtualTimeBenchmarks(results, drctl: drctl, work: work) }
if wanted("scale") { try await scaleBenchmarks(results, drctl: drctl, work: work) }

let output = only == nil ? "bench/results.md" : ".build/bench-partial.md"
try results.markdown(machine: machine).write(toFile: output, atomically: true, encoding: .utf8)
say("\nwrote \(output)")
