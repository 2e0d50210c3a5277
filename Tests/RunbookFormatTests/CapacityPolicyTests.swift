import DrctlCore
@testable import RunbookFormat
import Testing

/// One capacity policy for placement, the site invariants and whatif: ratio, reservations, cap.
@Suite("the capacity policy")
struct CapacityPolicyTests {
    /// Two hosts of 16 GB, each using 12 GB.
    let hosts: [Value] = [["host": "a", "memory_mb": 16384, "used_memory_mb": 12288, "free_memory_mb": 4096],
                          ["host": "b", "memory_mb": 16384, "used_memory_mb": 12288, "free_memory_mb": 4096]]

    func place(_ vms: [Value], _ policy: CapacityPolicy) throws -> [Value] {
        try Placement.place(vms, hosts: hosts, policy: policy).listValue!
    }

    @Test("overcommit: at 1.0 a host gives what is free; at 1.5 half its memory again")
    func overcommit() throws {
        let vm: Value = ["name": "db", "memory_mb": 8192, "priority": 1]
        let strict = try place([vm], CapacityPolicy())
        #expect(strict[0]["target_host"] == .null)
        #expect(strict[0]["placement"]?.text.contains("needs 8192 MB; the most any host that mounts its datastore has left is 4096 MB (a, at memory overcommit 1.0:1)") == true,
                "\(strict[0]["placement"]?.text ?? "")")
        #expect(strict[0]["placement"]?.text.hasSuffix("or raise memory_overcommit to 1.3") == true, "(12288 + 8192) / 16384 = 1.25, rounded up")
        let relaxed = try place([vm], CapacityPolicy(memoryOvercommit: 1.5))
        #expect(relaxed[0]["target_host"] == "a")
    }

    @Test("reservations must be backed by memory nobody reserved, whatever the ratio")
    func reservations() throws {
        let vm: Value = ["name": "db", "memory_mb": 8192, "memory_reservation_mb": 20000, "priority": 1]
        let refused = try place([vm], CapacityPolicy(memoryOvercommit: 2))
        #expect(refused[0]["target_host"] == .null)
        #expect(refused[0]["placement"]?.text.hasPrefix("needs a 20000 MB reservation") == true)
        let unchecked = try place([vm], CapacityPolicy(memoryOvercommit: 2, honoursReservations: false))
        #expect(unchecked[0]["target_host"] != .null)
    }

    @Test("the cap defaults to ESXi's 1,024 VMs per host; a lower cap says which number stops a VM")
    func cap() throws {
        #expect(CapacityPolicy().maxVMsPerHost == 1024)
        let vms: [Value] = (1...5).map { ["name": .string("vm-\($0)"), "memory_mb": 100] }
        #expect(try place(vms, CapacityPolicy()).allSatisfy { $0["target_host"] != .null })
        let capped = try place(vms, CapacityPolicy(maxVMsPerHost: 2))
        #expect(capped.filter { $0["target_host"] == .null }.count == 1)
        #expect(capped.contains { $0["placement"]?.text == "every host that mounts its datastore already takes 2 recovered VMs: raise max_vms_per_host" })
    }

    @Test("capacity_policy reads the run's params and says what it is, for the approver")
    func fromParams() throws {
        let policy = CapacityPolicy(params: ["memory_overcommit": .number(1.4), "max_vms_per_host": 200, "honour_reservations": false])
        #expect(policy == CapacityPolicy(memoryOvercommit: 1.4, maxVMsPerHost: 200, honoursReservations: false))
        #expect(policy.says == "memory overcommit 1.4:1 (change with --param memory_overcommit=1.4), reservations not checked, at most 200 recovered VMs per host")
        #expect(CapacityPolicy(params: [:]).says.hasSuffix("at most 1024 recovered VMs per host (ESXi's limit)"))
        #expect(try CapacityPolicy(.number(3)).maxVMsPerHost == 3, "a number is a cap, as place took before")
    }
}
