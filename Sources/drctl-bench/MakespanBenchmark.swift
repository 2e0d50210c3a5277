import Foundation

/// A whole estate powered on by priority group in virtual time (bench/estate-power-on.yaml): the
/// makespan the engine achieved against the lower bound the same graph, durations and limits allow.
func makespanBenchmark(_ results: BenchResults, drctl: String, work: String) async throws {
    results.section("Makespan against the lower bound",
                    "2,000 VMs on 50 hosts powered on after a site-wide power loss (`bench/estate-power-on.yaml`), at most 8 at a time per host, by priority group 1 to 5 (a group starts when the one before has finished), some VMs after a VM of their group on another host, each waiting for VMware Tools in its guest; a drill in virtual time with ESXi's durations. The lower bound takes each power-on's own time on its host from the run (from its first command to its last), and adds, group by group, the larger of the longest chain of dependencies and, per host, the group's total time divided by 8. CPU per command is the whole drill process's (engine, simulator, journal) divided by the commands it ran.")
    let scenario = "\(work)/estate-scenario.yaml"
    try EstateScenario(hosts: 50, vms: 2000).yaml.write(toFile: scenario, atomically: true, encoding: .utf8)
    var figures: [(process: ProcessFigures, run: EstateRun)] = []
    for attempt in 0..<BenchResults.runs {
        let runs = "\(work)/estate-runs-\(attempt)"
        let process = try timedProcess(drctl, ["drill", "bench/estate-power-on.yaml", "--scenario", scenario, "--auto-approve", "--runs-dir", runs])
        guard process.status == 0 else { throw BenchError("the estate drill failed (exit \(process.status)); run it by hand: drctl drill bench/estate-power-on.yaml --scenario \(scenario) --auto-approve") }
        figures.append((process, try EstateRun(runsDirectory: runs, maxPerHost: 8)))
    }
    let runs = figures.map(\.run)
    results.add("virtual makespan of the power-ons", runs.map(\.makespan), format: Unit.seconds)
    results.add("lower bound", runs.map(\.bound), format: Unit.seconds)
    results.add("makespan / lower bound", runs.map { $0.makespan / $0.bound }, format: Unit.ratio, target: "≤ 1.02×", met: { $0 <= 1.02 })
    results.add("drctl CPU per command (user + sys, whole drill)", figures.map { $0.process.cpu / Double($0.run.commands) * 1000 }, format: Unit.milliseconds,
                target: "≤ 0.30 ms", met: { $0 <= 0.3 })
    results.add("wall time of the drill", figures.map(\.process.wall), format: Unit.seconds)
    results.add("peak RSS", figures.map(\.process.peakRSSMegabytes), format: Unit.megabytes)
    results.add("journal bytes per event", runs.map(\.bytesPerEvent), format: Unit.bytes)
    results.note("\(runs[0].commands) commands and \(runs[0].events) journal events per drill.")
}

/// The bench estate as a scenario: VMs registered on their hosts and powered off, priorities
/// spread unevenly (more VMs in groups 3 and 4 than a host's 8 slots hold at once), and every
/// other VM of a group depending on one of the same group on the next host.
struct EstateScenario {
    let hosts: Int
    let vms: Int

    var yaml: String {
        var lines = ["scenario: bench-estate", "description: \(hosts) hosts and \(vms) VMs after a site-wide power loss (make bench).", "seed: 4242", "hosts:"]
        lines += (0..<hosts).map { "  - { name: \(host($0)), address: 10.20.\($0 / 200).\($0 % 200 + 10), memory_mb: 524288 }" }
        lines += ["datastores:"] + (1...8).map { "  - { name: ds-0\($0), capacity_gb: 8192, free_gb: 4096 }" }
        lines.append("vms:")
        for index in 0..<vms {
            let (host, wave) = (index % hosts, index / hosts)
            let group = priority(wave)
            let dependency = wave % 2 == 1 && priority(wave - 1) == group ? ", depends_on: [\(vm((wave - 1) * hosts + (host + 1) % hosts))]" : ""
            lines.append("  - { name: \(vm(index)), datastore: ds-0\(index % 8 + 1), host: \(self.host(host)), power: off, priority: \(group)\(dependency) }")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func host(_ index: Int) -> String { "esxi-" + String(format: "%02d", index + 1) }
    private func vm(_ index: Int) -> String { "vm-" + String(format: "%04d", index) }

    /// Of the 40 VMs of a host: 4 in group 1, 6 in 2, 10 in 3, 12 in 4, the rest in 5.
    private func priority(_ wave: Int) -> Int {
        let share = wave * 40 / max(1, vms / hosts)
        return share < 4 ? 1 : share < 10 ? 2 : share < 20 ? 3 : share < 32 ? 4 : 5
    }
}

/// What one estate drill's journal says: each power-on's span on its host, and the bound.
struct EstateRun {
    var makespan: Double
    var bound: Double
    var commands: Int
    var events: Int
    var bytesPerEvent: Double

    init(runsDirectory: String, maxPerHost: Int) throws {
        guard let run = try FileManager.default.contentsOfDirectory(atPath: runsDirectory).sorted().last else { throw BenchError("no run in \(runsDirectory)") }
        let path = "\(runsDirectory)/\(run)/journal.jsonl"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let parse = ISO8601DateFormatter()
        parse.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var spans: [String: (host: String, start: Double, end: Double)] = [:]
        var scenarioVMs: [String: (priority: Int, dependsOn: [String])] = [:]
        commands = 0
        events = 0
        for line in text.split(separator: "\n") {
            events += 1
            guard let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if entry["type"] as? String == "command-finished" { commands += 1 }
            guard entry["type"] as? String == "command-finished", entry["step"] as? String == "power-on",
                  let vm = entry["item"] as? String, let host = entry["host"] as? String, let time = (entry["time"] as? String).flatMap(parse.date(from:)),
                  let duration = entry["duration_ms"] as? Double else { continue }
            let end = time.timeIntervalSince1970, start = end - duration / 1000
            let known = spans[vm] ?? (host, start, end)
            spans[vm] = (host, min(known.start, start), max(known.end, end))
        }
        let estate = try String(contentsOfFile: "\(runsDirectory)/../estate-scenario.yaml", encoding: .utf8)
        for line in estate.split(separator: "\n") where line.hasPrefix("  - { name: vm-") {
            let name = String(line.split(separator: ",")[0].dropFirst("  - { name: ".count))
            let priority = Int(line.components(separatedBy: "priority: ").last?.prefix(1) ?? "") ?? 5
            let dependsOn = line.components(separatedBy: "depends_on: [").dropFirst().first.map { [String($0.prefix { $0 != "]" })] } ?? []
            scenarioVMs[name] = (priority, dependsOn)
        }
        guard spans.count == scenarioVMs.count else { throw BenchError("\(spans.count) of \(scenarioVMs.count) VMs were powered on in \(path)") }
        makespan = spans.values.map(\.end).max()! - spans.values.map(\.start).min()!
        // Group by group (a barrier between them): the longest dependency chain, or the busiest host's work over its slots.
        bound = 0
        for group in 1...5 {
            let members = spans.filter { scenarioVMs[$0.key]?.priority == group }
            func chain(_ vm: String) -> Double {
                let own = members[vm].map { $0.end - $0.start } ?? 0
                return own + (scenarioVMs[vm]?.dependsOn.filter { members[$0] != nil }.map(chain).max() ?? 0)
            }
            let longestChain = members.keys.map(chain).max() ?? 0
            let perHost = Dictionary(grouping: members.values, by: \.host).values.map { spans in spans.reduce(0) { $0 + $1.end - $1.start } / Double(maxPerHost) }
            bound += max(longestChain, perHost.max() ?? 0)
        }
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        bytesPerEvent = Double(bytes) / Double(max(events, 1))
    }
}
