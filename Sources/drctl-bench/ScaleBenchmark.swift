import Foundation

/// A generated estate of 10,000 VMs on 200 hosts: how long an operator waits for `validate`, an
/// offline dry-run, a dry-run against the simulator and `whatif --all-hosts`, and the memory each takes.
func scaleBenchmarks(_ results: BenchResults, drctl: String, work: String) async throws {
    results.section("Scale: 10,000 VMs on 200 hosts",
                    "`drctl sim generate --seed 4242 --hosts 200 --vms 10000 --datastores 20 --failure datastore`, written as an inventory by `drctl sim inventory`. Whole processes, start-up and loading the inventory included; peak RSS is the process's own.")
    let scenario = "\(work)/estate-scenario.yaml", site = "\(work)/estate.yaml"
    try check(timedProcess(drctl, ["sim", "generate", "--seed", "4242", "--hosts", "200", "--vms", "10000", "--datastores", "20", "--failure", "datastore", "-o", scenario]))
    try check(timedProcess(drctl, ["sim", "inventory", "--scenario", scenario, "-o", site]))
    let failedHost = try firstHost(of: site)

    let cases: [(String, [String], goal: (time: Double?, rss: Double?))] = [
        ("validate the four runbooks with the inventory", ["validate", "Runbooks/datastore-failure.yaml", "Runbooks/host-failure.yaml",
                                                           "Runbooks/power-on-by-priority.yaml", "Runbooks/vcenter-loss.yaml", "--inventory", site], (nil, 64)),
        ("offline dry-run of host-failure", ["run", "Runbooks/host-failure.yaml", "--inventory", site, "--param", "failed_host=\(failedHost)",
                                             "--dry-run", "--offline"], (1, 64)),
        ("dry-run of datastore-failure against the simulator", ["drill", "Runbooks/datastore-failure.yaml", "--scenario", scenario, "--param", "datastore=ds-app",
                                                                "--dry-run", "--runs-dir", "\(work)/runs"], (nil, 64)),
    ]
    for (name, arguments, goal) in cases {
        let figures = try await repeated { try timedProcess(drctl, arguments) }
        results.add("\(name): time", figures.map(\.wall), format: Unit.seconds,
                    target: goal.time.map { "≤ \(Unit.seconds($0))" } ?? "", met: goal.time.map { limit in { $0 <= limit } })
        results.add("\(name): peak RSS", figures.map(\.peakRSSMegabytes), format: Unit.megabytes,
                    target: goal.rss.map { "≤ \(Int($0)) MB" } ?? "", met: goal.rss.map { limit in { $0 <= limit } })
    }
    // Minutes per run: measured once, said so.
    let whatif = try timedProcess(drctl, ["whatif", "--inventory", site, "--all-hosts", "-o", "\(work)/estate-whatif.txt"])
    results.add("whatif --all-hosts (200 failures; one run): time", [whatif.wall], format: Unit.seconds)
    results.add("whatif --all-hosts: peak RSS", [whatif.peakRSSMegabytes], format: Unit.megabytes, target: "≤ 64 MB", met: { $0 <= 64 })
}

func check(_ figures: ProcessFigures) throws {
    guard figures.status == 0 else { throw BenchError("a set-up command failed (exit \(figures.status))") }
}

/// The first ESXi host named in an inventory written by `drctl sim inventory`.
func firstHost(of inventory: String) throws -> String {
    let text = try String(contentsOfFile: inventory, encoding: .utf8)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("- name: esxi") }) else { throw BenchError("no host in \(inventory)") }
    return String(line.dropFirst("- name: ".count))
}
