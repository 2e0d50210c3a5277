import DrctlCore

/// The `place` filter: chooses a surviving host for each VM to recover.
///
/// VMs are placed most important first (priority 1 before 5, larger memory first within a
/// group), each on the host with the most free memory that has room for it, holds fewer than
/// `maxPerHost` placed VMs, is not in maintenance mode, and holds no other VM of the same
/// `anti_affinity` group. With `filesystems` (storage.filesystem.list from the hosts), only hosts
/// that mount the VM's datastore are eligible. A VM that fits nowhere gets `target_host: null` and
/// a `placement` reason. `eligible_hosts` lists the target, then every other host that mounts the
/// datastore, best first: where to try next if the target refuses the registration.
/// Ties are broken by name, so the inventory's order never changes the placement.
public enum Placement {
    public static func place(_ vms: [Value], hosts: [Value], maxPerHost: Int?, filesystems: [Value]? = nil) throws -> Value {
        let mounts = filesystems.map(mountedDatastores)
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
        }.sorted { $0.name < $1.name }
        let order = vms.indices.sorted { a, b in
            let priorityA = vms[a]["priority"]?.numberValue ?? 3, priorityB = vms[b]["priority"]?.numberValue ?? 3
            if priorityA != priorityB { return priorityA < priorityB }
            let memoryA = vms[a]["memory_mb"]?.numberValue ?? 0, memoryB = vms[b]["memory_mb"]?.numberValue ?? 0
            if memoryA != memoryB { return memoryA > memoryB }
            return (vms[a]["name"]?.text ?? "") < (vms[b]["name"]?.text ?? "")
        }
        var placed = vms
        for index in order {
            guard var fields = vms[index].mapValue else {
                throw EvaluationError("place needs a list of VM maps (with name, memory_mb, priority), got \(vms[index].kindName)")
            }
            // A VM that will be left off (power_on: false) takes no memory.
            let memory = fields["power_on"] == .bool(false) ? 0 : fields["memory_mb"]?.numberValue ?? 0
            let group = fields["anti_affinity"].flatMap { $0 == .null ? nil : $0.text }
            let datastore = fields["datastore"].flatMap { $0 == .null ? nil : $0.text }
            let sees = { (host: Int) -> Bool in
                guard let mounts, let datastore else { return true }
                return mounts[candidates[host].name]?.contains(datastore) ?? false
            }
            let fitting = candidates.indices.filter { host in
                sees(host) && candidates[host].freeMB >= memory
                    && (maxPerHost.map { candidates[host].placed < $0 } ?? true)
                    && !(group.map { candidates[host].groups.contains($0) } ?? false)
            }
            let better = { (a: Int, b: Int) -> Bool in
                candidates[a].freeMB != candidates[b].freeMB ? candidates[a].freeMB > candidates[b].freeMB : candidates[a].name < candidates[b].name
            }
            // Back where it ran, when that host is a candidate with room: nothing moves for nothing.
            let lastHost = fields["last_host"].flatMap { $0 == .null ? nil : $0.text }
            let ranked = fitting.sorted { a, b in
                let homeA = candidates[a].name == lastHost, homeB = candidates[b].name == lastHost
                return homeA != homeB ? homeA : better(a, b)
            }
            if let best = ranked.first {
                candidates[best].freeMB -= memory
                candidates[best].placed += 1
                if let group { candidates[best].groups.insert(group) }
                fields["target_host"] = .string(candidates[best].name)
                // Where to try next: the other hosts that see the datastore, best first.
                let others = candidates.indices.filter { $0 != best && sees($0) }.sorted(by: better)
                fields["eligible_hosts"] = .list(([best] + others).map { .string(candidates[$0].name) })
                fields["placement"] = .string("\(Int(memory)) MB on \(candidates[best].name), \(Int(candidates[best].freeMB)) MB left there")
            } else {
                fields["target_host"] = .null
                fields["eligible_hosts"] = .list([])
                let seeing = candidates.indices.filter(sees)
                fields["placement"] = .string(candidates.isEmpty ? "no surviving host available"
                    : seeing.isEmpty ? "no surviving host that answered mounts \(datastore ?? "its datastore")"
                    : "no host that mounts \(datastore ?? "its datastore") has \(Int(memory)) MB free" + (group.map { " outside anti-affinity group \($0)" } ?? "") + (maxPerHost.map { " under \($0) VMs per host" } ?? ""))
            }
            placed[index] = .map(fields)
        }
        return .list(placed)
    }

    /// Host name -> mounted datastore names, from storage.filesystem.list rows tagged with their host.
    static func mountedDatastores(_ filesystems: [Value]) -> [String: Set<String>] {
        var mounts: [String: Set<String>] = [:]
        for filesystem in filesystems where filesystem["mounted"]?.isTruthy == true {
            guard let host = filesystem["host"]?.text, let volume = filesystem["volume_name"]?.text else { continue }
            mounts[host, default: []].insert(volume)
        }
        return mounts
    }
}
