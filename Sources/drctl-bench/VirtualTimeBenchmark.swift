import DrctlCore
import Foundation

/// Drills in virtual time, as an operator runs them: a 15-minute wait for a LUN that never returns,
/// and `drctl whatif --all-hosts` on a generated site of 50 hosts and 2,000 VMs (issue 14's goals).
func virtualTimeBenchmarks(_ results: BenchResults, drctl: String, work: String) async throws {
    results.section("Drills in virtual time",
                    "Whole processes. A datastore whose LUN never returns, with a 15-minute wait; `drctl whatif --all-hosts` on `drctl sim generate --seed 4242 --hosts 50 --vms 2000 --datastores 8 --failure datastore` (50 simulated host failures, each about 25 VMs recovered with ESXi's durations).")
    let neverReturns = try await repeated {
        try timedProcess(drctl, ["drill", "Runbooks/datastore-failure.yaml", "--scenario", "Simulator/datastore-never-returns.yaml", "--param", "datastore=ds-gold",
                                 "--param", "return_timeout=15m", "--auto-approve", "--runs-dir", "\(work)/runs"])
    }
    results.add("drill, LUN never returns, 15-minute wait: wall time", neverReturns.map(\.wall), format: Unit.seconds, target: "< 2 s", met: { $0 < 2 })

    try check(timedProcess(drctl, ["sim", "generate", "--seed", "4242", "--hosts", "50", "--vms", "2000", "--datastores", "8", "--failure", "datastore",
                                   "-o", "\(work)/site-scenario.yaml"]))
    try check(timedProcess(drctl, ["sim", "inventory", "--scenario", "\(work)/site-scenario.yaml", "-o", "\(work)/site.yaml"]))
    let allHosts = try await repeated { try timedProcess(drctl, ["whatif", "--inventory", "\(work)/site.yaml", "--all-hosts", "-o", "\(work)/whatif.txt"]) }
    results.add("whatif --all-hosts, 50 hosts and 2,000 VMs: wall time", allHosts.map(\.wall), format: Unit.seconds, target: "< 10 s", met: { $0 < 10 })
    results.add("whatif --all-hosts: CPU time", allHosts.map(\.cpu), format: Unit.seconds)
    results.add("whatif --all-hosts: peak RSS", allHosts.map(\.peakRSSMegabytes), format: Unit.megabytes)
}


