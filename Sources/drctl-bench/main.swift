import Foundation

// `make bench`: figures, side by side, written to bench/results.md. They assert nothing; the
// goals are issue 15's and the table says which are met.

let results = BenchResults()
let drctl = ".build/release/drctl"
let work = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }
let machine = machineDescription()
print("drctl benchmarks: release build, median of \(BenchResults.runs) runs (BENCH_RUNS raises it)")

try await largeOutputBenchmark(results)
try await makespanBenchmark(results, drctl: drctl, work: work)
try await fanOutBenchmark(results, drctl: drctl, work: work)
try await journalBenchmarks(results)
try await virtualTimeBenchmarks(results, drctl: drctl, work: work)
try await scaleBenchmarks(results, drctl: drctl, work: work)

let output = ProcessInfo.processInfo.environment["BENCH_RESULTS"] ?? "bench/results.md"
try results.markdown(machine: machine).write(toFile: output, atomically: true, encoding: .utf8)
print("\nwrote \(output)")
