import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat
import Simulator
import SSHTransport

/// A command printing 100 MB over a real sshd on 127.0.0.1: how far RSS rises above what the
/// process held before (the goal: under 64 MB), and how many bytes end up stored (the goal: once).
/// The peak is read from this process's high-water mark, above the baseline taken just before.
func largeOutputBenchmark(_ results: BenchResults) async throws {
    results.section("Large output over SSH", "A command printing 100 MB through a real sshd on 127.0.0.1, journaled with a secret to mask: memory above what the process held before, and the bytes stored.")
    let size = 100 * 1024 * 1024
    let scenario = try ScenarioLoader.load(text: "scenario: bench\nhosts:\n  - { name: esxi-01, address: 10.0.0.1 }\n", file: "bench.yaml")
    let fleet = try FleetBehindSSHD.start(scenario, drctl: "/bin/false",
                                          forceCommand: "case \"$SSH_ORIGINAL_COMMAND\" in *print*) head -c \(size) /dev/zero | tr '\\000' x ;; esac")
    defer { fleet.stop() }
    let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bench-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: runs) }
    let run = try RunDirectory.create(id: "large-output", in: runs)
    let settings = SSHTransport.Settings(knownHostsPath: fleet.inventory.knownHosts!, outputDirectory: run.outputs.path)
    // A secret to mask, as in any real run (a password): the output is masked as it streams.
    let redactor = Redactor()
    redactor.register("bench-secret-value")
    let transport = SSHTransport(inventory: fleet.inventory, settings: settings, redactor: redactor)
    let host = fleet.inventory.hosts[0]
    // Connected, and the journal open, before the baseline is taken.
    _ = try await transport.execute("warm up", on: host, timeout: .seconds(60))
    let journal = try JournalWriter(directory: run, redactor: redactor)
    let baseline = memoryKilobytes("VmRSS")
    let start = ContinuousClock.now
    let result = try await transport.execute("print", on: host, timeout: .seconds(600))
    await journal.record(.commandFinished(step: "print", item: ItemRef(index: 0, label: ""), host: host.name, command: "print", result: result))
    await journal.close()
    let elapsed = ContinuousClock.now - start
    let peak = memoryKilobytes("VmHWM")
    let stored = (try FileManager.default.subpathsOfDirectory(atPath: run.url.path)).reduce(0) { total, name in
        total + ((try? FileManager.default.attributesOfItem(atPath: run.url.path + "/" + name)[.size] as? Int) ?? 0)
    }
    results.add("100 MB output: wall time (one run)", [elapsed.seconds], format: Unit.seconds)
    results.add("100 MB output: peak RSS above the baseline", [Double(peak - baseline) / 1024], format: Unit.megabytes, target: "< 64 MB", met: { $0 < 64 })
    let storedPerByte = Double(stored) / Double(size)
    results.add("100 MB output: bytes stored in the run, per byte of output", value: String(format: "%.2f", storedPerByte), target: "≤ 1.01 (stored once)", met: storedPerByte <= 1.01)
}

/// A field of /proc/self/status, in kB.
func memoryKilobytes(_ field: String) -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}
