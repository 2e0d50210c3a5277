import DrctlCore

/// The `place` filter: chooses a surviving host for each VM to recover, under a `CapacityPolicy`.
///
/// VMs are placed most important first (priority 1 before 5, larger memory first within a
/// group), each on the host it last ran on when that host can take it, else on the one with the
/// most room that can: room for its memory at the policy's overcommit ratio, physical memory for
/// its reservation, fewer than the policy's cap of recovered VMs, not in maintenance mode, no
/// other VM of its `anti_affinity` group. With `filesystems` (storage.filesystem.list from the
/// hosts), only hosts that mount the VM's datastore are eligible. A VM left off (`power_on:
/// false`) takes no memory. A VM that fits nowhere gets `target_host: null` and a `placement`
/// naming the number that stops it and what would make room. `eligible_hosts` lists the target,
/// then every other host that mounts the datastore, best first: where to try next if the target
/// refuses the registration. Ties are broken by name, so the inventory's order never matters.
public enum Placement {
    struct Candidate {
        var name: String
        var memoryMB: Double
        /// Memory in use, by what ran there and what was placed so far (memory the VMs were given).
        var usedMB: Double
        /// Memory reserved by the VMs running there (when the summary says) and by those placed.
        var reservedMB = 0.0
        var placed = 0
        var groups: Set<String> = []
    }

    public static func place(_ vms: [Value], hosts: [Value], policy: CapacityPolicy, filesystems: [Value]? = nil) throws -> Value {
        let mounts = filesystems.map(mountedDatastores)
        var candidates = hosts.compactMap { host -> Candidate? in
            guard let name = (host["host"] ?? host["name"])?.text, !name.isEmpty else { return nil }
            if host["maintenance"]?.isTruthy == true { return nil }
            let free = host["free_memory_mb"]?.numberValue ?? host["free_mb"]?.numberValue ?? 0
            // A summary without the host's size: what is free is all it has.
            let memory = host["memory_mb"]?.numberValue ?? free
            return Candidate(name: name, memoryMB: memory, usedMB: host["used_memory_mb"]?.numberValue ?? memory - free,
                             reservedMB: host["reserved_memory_mb"]?.numberValue ?? 0)
        }.sorted { $0.name < $1.name }
        var placed = vms
        for index in placementOrder(vms) {
            guard var fields = vms[index].mapValue else {
                throw EvaluationError("place needs a list of VM maps (with name, memory_mb, priority), got \(vms[index].kindName)")
            }
            let request = Request(fields)
            let sees = { (host: Int) -> Bool in
                guard let mounts, let datastore = request.datastore else { return true }
                return mounts[candidates[host].name]?.contains(datastore) ?? false
            }
            let fitting = candidates.indices.filter { sees($0) && fits(request, candidates[$0], policy) }
            let better = { (a: Int, b: Int) -> Bool in
                let roomA = policy.room(memoryMB: candidates[a].memoryMB, usedMB: candidates[a].usedMB)
                let roomB = policy.room(memoryMB: candidates[b].memoryMB, usedMB: candidates[b].usedMB)
                return roomA != roomB ? roomA > roomB : candidates[a].name < candidates[b].name
            }
            // Back where it ran, when that host can take it: nothing moves for nothing.
            let ranked = fitting.sorted { a, b in
                let homeA = candidates[a].name == request.lastHost, homeB = candidates[b].name == request.lastHost
                return homeA != homeB ? homeA : better(a, b)
            }
            if let best = ranked.first {
                candidates[best].usedMB += request.memoryMB
                candidates[best].reservedMB += request.reservationMB
                candidates[best].placed += 1
                if let group = request.group { candidates[best].groups.insert(group) }
                fields["target_host"] = .string(candidates[best].name)
                // Where to try next: the other hosts that see the datastore, best first.
                let others = candidates.indices.filter { $0 != best && sees($0) }.sorted(by: better)
                fields["eligible_hosts"] = .list(([best] + others).map { .string(candidates[$0].name) })
                let left = policy.room(memoryMB: candidates[best].memoryMB, usedMB: candidates[best].usedMB)
                fields["placement"] = .string("\(Int(request.memoryMB)) MB on \(candidates[best].name), \(Int(left)) MB left there")
            } else {
                fields["target_host"] = .null
                fields["eligible_hosts"] = .list([])
                fields["placement"] = .string(whyNot(request, candidates, seeing: candidates.indices.filter(sees), policy))
            }
            placed[index] = .map(fields)
        }
        return .list(placed)
    }

    /// What one VM asks of a host.
    struct Request {
        var memoryMB: Double
        var reservationMB: Double
        var group: String?
        var datastore: String?
        var lastHost: String?

        init(_ fields: [String: Value]) {
            let leftOff = fields["power_on"] == .bool(false)
            memoryMB = leftOff ? 0 : fields["memory_mb"]?.numberValue ?? 0
            reservationMB = leftOff ? 0 : fields["memory_reservation_mb"]?.numberValue ?? 0
            let text = { (key: String) in fields[key].flatMap { $0 == .null ? nil : $0.text } }
            group = text("anti_affinity")
            datastore = text("datastore")
            lastHost = text("last_host")
        }
    }

    static func fits(_ request: Request, _ host: Candidate, _ policy: CapacityPolicy) -> Bool {
        policy.room(memoryMB: host.memoryMB, usedMB: host.usedMB) >= request.memoryMB
            && (!policy.honoursReservations || host.reservedMB + request.reservationMB <= host.memoryMB)
            && host.placed < policy.maxVMsPerHost
            && !(request.group.map { host.groups.contains($0) } ?? false)
    }

    /// Why no host can take it: the number that stops it, and what would make room.
    static func whyNot(_ request: Request, _ candidates: [Candidate], seeing: [Int], _ policy: CapacityPolicy) -> String {
        guard !candidates.isEmpty else { return "no surviving host available" }
        let datastore = request.datastore ?? "its datastore"
        guard !seeing.isEmpty else { return "no surviving host that answered mounts \(datastore)" }
        let hosts = seeing.map { candidates[$0] }.filter { host in !(request.group.map { host.groups.contains($0) } ?? false) }
        guard !hosts.isEmpty else { return "every host that mounts \(datastore) already holds a VM of anti-affinity group \(request.group ?? "")" }
        let underCap = hosts.filter { $0.placed < policy.maxVMsPerHost }
        guard !underCap.isEmpty else {
            return "every host that mounts \(datastore) already takes \(policy.maxVMsPerHost) recovered VMs: raise max_vms_per_host"
        }
        let roomiest = underCap.max { policy.room(memoryMB: $0.memoryMB, usedMB: $0.usedMB) < policy.room(memoryMB: $1.memoryMB, usedMB: $1.usedMB) }!
        let room = policy.room(memoryMB: roomiest.memoryMB, usedMB: roomiest.usedMB)
        if room >= request.memoryMB {
            return "needs a \(Int(request.reservationMB)) MB reservation; no host that mounts \(datastore) has it physically free: "
                + "power off VMs of lower priority there, or lower the reservation"
        }
        let ratio = underCap.map { CapacityPolicy.ratio(toFit: request.memoryMB, memoryMB: $0.memoryMB, usedMB: $0.usedMB) }.min() ?? .infinity
        return "needs \(Int(request.memoryMB)) MB; the most any host that mounts \(datastore) has left is \(Int(max(0, room))) MB "
            + "(\(roomiest.name), at memory overcommit \(policy.memoryOvercommit.fixed(1)):1). To make room: power off VMs of lower priority there"
            + (ratio.isFinite && ratio <= 4 ? ", or raise memory_overcommit to \(ratio.fixed(1))" : "")
    }

    /// Most important first: priority 1 before 5, then larger memory, then by name.
    static func placementOrder(_ vms: [Value]) -> [Int] {
        vms.indices.sorted { a, b in
            let priorityA = vms[a]["priority"]?.numberValue ?? 3, priorityB = vms[b]["priority"]?.numberValue ?? 3
            if priorityA != priorityB { return priorityA < priorityB }
            let memoryA = vms[a]["memory_mb"]?.numberValue ?? 0, memoryB = vms[b]["memory_mb"]?.numberValue ?? 0
            if memoryA != memoryB { return memoryA > memoryB }
            return (vms[a]["name"]?.text ?? "") < (vms[b]["name"]?.text ?? "")
        }
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
