import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

@Suite("dry-run and verify")
struct DryRunTests {
    static let recovery = """
    runbook: recover
    steps:
      - id: find
        on: h1
        action: vm.getallvms
      - id: gate
        needs: [find]
        approval: "Register {{ steps.find.vms | count }} VMs?"
      - id: register
        needs: [gate]
        foreach: "{{ steps.find.vms }}"
        on: h2
        action: vm.registervm
        with: { vmx: "{{ item.file }}" }
      - id: power
        needs: [register]
        foreach: "{{ steps.find.vms }}"
        on: h2
        action: vm.power.on
        with: { vmid: "{{ steps.register.vmid }}" }
    """

    static func listing(_ host: String, _ command: String, _ call: Int) -> ScriptedTransport.Reply {
        command == "vim-cmd vmsvc/getallvms"
            ? .init(stdout: "Vmid   Name   File   Guest OS   Version   Annotation\n1   web; reboot   [ds1] web; reboot/web; reboot.vmx   otherGuest   vmx-13\n2   db-01   [ds1] db-01/db-01.vmx   otherGuest   vmx-13\n")
            : .init(stdout: "Vmid   Name   File   Guest OS   Version   Annotation\n")
    }

    @Test("a dry-run runs read-only steps, changes nothing, and plans with real names in order")
    func plansWithRealNames() async throws {
        let transport = ScriptedTransport(Self.listing)
        let summary = try await runEngine(Self.recovery, transport: transport, gate: NonInteractiveGate(), options: RunOptions(dryRun: true))
        #expect(summary.outcome == .planned)
        #expect(summary.exitCode == 0)
        #expect(await transport.commands == ["vim-cmd vmsvc/getallvms"], "only the read-only discovery ran")
        let lines = summary.plan.map { "\($0.step) \($0.item.label) \($0.host ?? "-"): \($0.lines.joined(separator: " | "))" }
        #expect(lines[0] == "find  h1: vim-cmd vmsvc/getallvms")
        #expect(lines[1] == "gate  -: APPROVAL: Register 2 VMs?")
        #expect(lines.contains("register web; reboot h2: vim-cmd solo/registervm '/vmfs/volumes/ds1/web; reboot/web; reboot.vmx'"))
        #expect(lines.contains("power db-01 h2: vm.power.on vmid={{ steps.register.vmid }}"))
        let register = try #require(summary.plan.first { $0.step == "register" })
        #expect(register.behindApprovals == ["gate"] && register.mutates && !register.executed)
        let firstPower = try #require(summary.plan.firstIndex { $0.step == "power" })
        let lastRegister = try #require(summary.plan.lastIndex { $0.step == "register" })
        #expect(firstPower > lastRegister, "every register is listed before the power-ons that need it")
        #expect(summary.plan.map(\.sequence) == Array(1...summary.plan.count))
    }

    @Test("the plan lists side-by-side items the same way whatever order they ran in: by step, priority group, dependency, fan-out order, then inventory order of hosts")
    func planOrder() async throws {
        let yaml = """
        runbook: order
        steps:
          - id: look
            foreach: "{{ inventory.vms }}"
            on: "{{ item.host }}"
            run: "vim-cmd vmsvc/getallvms"
          - id: ping
            on: [h3, h1, h2]
            run: "vmkping -c 1 10.0.0.9"
          - id: power
            needs: [look]
            foreach: "{{ inventory.vms }}"
            on: "{{ item.host }}"
            order: priority
            run: "vim-cmd vmsvc/power.on 1"
        """
        var inventory = testInventory
        inventory.vms = [Inventory.VM(name: "v0", priority: 3, host: "h1"), Inventory.VM(name: "v1", priority: 1, dependsOn: ["v2"], host: "h2"),
                         Inventory.VM(name: "v2", priority: 1, host: "h3"), Inventory.VM(name: "v3", priority: 2, host: "h4"),
                         Inventory.VM(name: "v4", priority: 1, dependsOn: ["v1"], host: "h5"), Inventory.VM(name: "v5", priority: 2, host: "h1")]
        // The reads end in a different order each time: hosts answer slowest first, fastest first, alternating.
        let delays: [[String: Int]] = [["h1": 40, "h2": 30, "h3": 20, "h4": 10, "h5": 0], ["h1": 0, "h2": 10, "h3": 20, "h4": 30, "h5": 40],
                                       ["h1": 30, "h2": 0, "h3": 40, "h4": 10, "h5": 20]]
        var listings: [[String]] = []
        for pattern in delays {
            let transport = ScriptedTransport { host, _, _ in .init(stdout: "Vmid   Name   File   Guest OS   Version   Annotation\n", delay: .milliseconds(pattern[host] ?? 0)) }
            let summary = try await runEngine(yaml, transport: transport, inventory: inventory, options: RunOptions(dryRun: true))
            #expect(summary.outcome == .planned)
            listings.append(summary.plan.map { "\($0.sequence). \($0.step) \($0.item.label.isEmpty ? $0.host ?? "" : $0.item.label)" })
        }
        let expected = ["look v0", "look v1", "look v2", "look v3", "look v4", "look v5", "ping h1", "ping h2", "ping h3",
                        "power v2", "power v1", "power v4", "power v3", "power v5", "power v0"]
        for listing in listings {
            #expect(listing == expected.enumerated().map { "\($0.offset + 1). \($0.element)" })
        }
    }

    @Test("an offline dry-run contacts nothing and shows templates where discovery is needed")
    func offline() async throws {
        let transport = ScriptedTransport(Self.listing)
        let summary = try await runEngine(Self.recovery, transport: transport, options: RunOptions(dryRun: true, offline: true))
        #expect(await transport.commands.isEmpty)
        let register = try #require(summary.plan.first { $0.step == "register" })
        #expect(register.item.label == "each of steps.find.vms")
        #expect(register.lines == ["vm.registervm vmx={{ item.file }}"])
        #expect(summary.plan.first { $0.step == "gate" }?.lines == ["APPROVAL: Register {{ steps.find.vms | count }} VMs?"])
    }

    @Test("a mutating action whose effect already exists is skipped by its verify check")
    func verifySkips() async throws {
        let transport = ScriptedTransport { _, command, _ in
            command.hasPrefix("vim-cmd vmsvc/power.getstate") ? .init(stdout: "Retrieved runtime info\nPowered on\n") : .init()
        }
        let summary = try await runEngine("""
        runbook: verify
        steps:
          - { id: power, on: h1, action: vm.power.on, with: { vmid: "5" } }
        """, transport: transport)
        #expect(summary.status("power") == .alreadyDone)
        #expect(await transport.commands == ["vim-cmd vmsvc/power.getstate 5"])
    }

    @Test("verify: false always does the work")
    func verifyDisabled() async throws {
        let transport = ScriptedTransport { _, command, _ in
            command.hasPrefix("vim-cmd vmsvc/power.getstate") ? .init(stdout: "Retrieved runtime info\nPowered on\n") : .init(stdout: "Powering on VM:\n")
        }
        let summary = try await runEngine("""
        runbook: verify
        steps:
          - { id: power, on: h1, action: vm.power.on, with: { vmid: "5", answer: none }, verify: false }
        """, transport: transport)
        #expect(summary.status("power") == .succeeded)
        #expect(await transport.commands.first == "vim-cmd vmsvc/power.on 5")
    }
}

@Suite("dry-run names")
struct DryRunNameTests {
    @Test("a step that goes where a fallback step landed is planned on that step's first host by name, not as {{ steps.X.host }}")
    func fallbackHostIsNamed() async throws {
        let summary = try await runEngine("""
        runbook: r
        steps:
          - { id: register, on: [h2, h3], fallback: true, run: "register" }
          - { id: power, needs: [register], on: "{{ steps.register.host }}", run: "power {{ steps.register.stdout }}" }
        """, transport: ScriptedTransport(), gate: NonInteractiveGate(), options: RunOptions(dryRun: true))
        let power = try #require(summary.plan.first { $0.step == "power" })
        #expect(power.host == "h2", "the host the plan registers on")
        #expect(power.lines.first?.contains("steps.register.stdout") == true, "what only the registration will tell stays a template: \(power.lines)")
        #expect(!summary.plan.contains { ($0.host ?? "").contains("{{") })
    }
}
