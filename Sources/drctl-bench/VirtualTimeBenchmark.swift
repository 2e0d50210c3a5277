import DrctlCore
import Foundation

/// Drills in virtual time, as an operator runs them (whole processes): a 15-minute wait for a LUN
/// that never returns (goal: under 2 s of wall time), and `drctl whatif --all-hosts` on a generated
/// site of 50 hosts and 2,000 VMs (goal: under 10 s), with the peak RSS of the largest child.
func virtualTimeBenchmarks() async throws {
    let drctl = ".build/release/drctl"
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bench-virtual-\(getpid())").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }

    let neverReturns = try await measure(3) {
        try runProcess(drctl, ["drill", "Runbooks/datastore-failure.yaml", "--scenario", "Simulator/datastore-never-returns.yaml", "--param", "datastore=ds-gold",
                               "--param", "return_timeout=15m", "--auto-approve", "--runs-dir", "\(work)/runs"])
    }
    row("drill: LUN never returns, 15-minute wait (virtual time)", DurationText.format(neverReturns) + " of wall time")

    try runProcess(drctl, ["sim", "generate", "--seed", "4242", "--hosts", "50", "--vms", "2000", "--datastores", "8", "--failure", "datastore",
                           "-o", "\(work)/site-scenario.yaml"])
    try runProcess(drctl, ["sim", "inventory", "--scenario", "\(work)/site-scenario.yaml", "-o", "\(work)/site.yaml"])
    let allHosts = try await measure(3) {
        try runProcess(drctl, ["whatif", "--inventory", "\(work)/site.yaml", "--all-hosts", "-o", "\(work)/whatif.txt"])
    }
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    row("whatif --all-hosts: 50 hosts, 2,000 VMs (50 simulated failures)", "\(DurationText.format(allHosts)) of wall time, peak RSS \(usage.ru_maxrss / 1024) MB")
    let table = (try? String(contentsOfFile: "\(work)/whatif.txt", encoding: .utf8)) ?? ""
    print(table.split(separator: "\n").prefix(8).map { "    " + $0 }.joined(separator: "\n"))
}

@discardableResult
func runProcess(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
