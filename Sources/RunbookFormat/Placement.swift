import DrctlCore

/// The `place` filter: chooses a surviving host for each VM to recover.
///
/// VMs are placed most important first (priority 1 before 5, larger memory first within a
/// group), each on the host with the most free memory that has room for it, holds fewer than
/// `maxPerHost` placed VMs, is not in maintenance mode, and holds no other VM of the same
/// `anti_affinity` group. A VM that fits nowhere gets `target_host: null` and a `placement` reason.
public enum Placement {
    public static func place(_ vms: [Value], hosts: [Value], maxPerHost: Int?) throws -> Value {
        struct Candidate {
            var name: String
            var freeMB: Double
            var placed = 0
            var groups: Set<String> = []
        }
        var candidates = hosts.compactMap { host -> Candidate? in
            guard let name = (host["host"] ?? host["name"])?.text, !name.isEmpty else { return nil }
            if host["maintenance"]?.isTruthy == true { return nil }
            return Candidate(name: name, freeMB: host["free_memory_mb"]?.numberValue ?? host["free_mb"]?.numberValue ?? 0)
        }
        let order = vms.indices.sorted { a, b in
            let priorityA = vms[a]["priority"]?.numberValue ?? 3, priorityB = vms[b]["priority"]?.numberValue ?? 3
            if priorityA != priorityB { return priorityA < priorityB }
            return (vms[a]["memory_mb"]?.numberValue ?? 0) > (vms[b]["memory_mb"]?.numberValue ?? 0)
        }
        var placed = vms
        for index in order {
            guard var fields = vms[index].mapValue else {
                throw EvaluationError("place needs a list of VM maps (with name, memory_mb, priority), got \(vms[index].kindName)")
            }
            let memory = fields["memory_mb"]?.numberValue ?? 0
            let group = fields["anti_affinity"].flatMap { $0 == .null ? nil : $0.text }
            let fitting = candidates.indices.filter { host in
                candidates[host].freeMB >= memory
                    && (maxPerHost.map { candidates[host].placed < $0 } ?? true)
                    && !(group.map { candidates[host].groups.contains($0) } ?? false)
            }
            if let best = fitting.max(by: { candidates[$0].freeMB < candidates[$1].freeMB }) {
                candidates[best].freeMB -= memory
                candidates[best].placed += 1
                if let group { candidates[best].groups.insert(group) }
                fields["target_host"] = .string(candidates[best].name)
                fields["placement"] = .string("\(Int(memory)) MB on \(candidates[best].name), \(Int(candidates[best].freeMB)) MB left there")
            } else {
                fields["target_host"] = .null
                fields["placement"] = .string(candidates.isEmpty ? "no surviving host available"
                    : "no host has \(Int(memory)) MB free" + (group.map { " outside anti-affinity group \($0)" } ?? "") + (maxPerHost.map { " under \($0) VMs per host" } ?? ""))
            }
            placed[index] = .map(fields)
        }
        return .list(placed)
    }
}
