import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

@Suite("scheduling")
struct SchedulingTests {
    static let pipeline = """
    runbook: pipe
    steps:
      - id: register
        foreach: [a, b, c]
        on: h1
        run: "register {{ item }}"
      - id: power
        needs: [register]
        foreach: [a, b, c]
        on: h2
        BARRIER
        run: "power {{ item }}"
    """

    static func slowLastItem(_ host: String, _ command: String, _ call: Int) -> ScriptedTransport.Reply {
        ScriptedTransport.Reply(delay: command == "register c" ? .milliseconds(600) : .milliseconds(10))
    }

    @Test("item i of a fan-out waits only for item i of the fan-out it needs")
    func pipelinesItemByItem() async throws {
        // register c holds until power a has started: only pipelining lets that happen in time.
        let transport = ScriptedTransport { _, command, _ in
            command == "register c" ? ScriptedTransport.Reply(delay: .milliseconds(10), until: "power a") : ScriptedTransport.Reply(delay: .milliseconds(10))
        }
        let summary = try await runEngine(Self.pipeline.replacingOccurrences(of: "BARRIER", with: ""), transport: transport)
        #expect(summary.outcome == .succeeded)
        let powerA = try #require(await transport.record("power a"))
        let registerC = try #require(await transport.record("register c"))
        // Decided by the order of events: register c cannot end before power a starts, unless
        // pipelining is broken (then it gives up after 60 s and this fails).
        #expect(registerC.sawUntil, "power a should start while register c is still running")
        #expect(powerA.startEvent < registerC.endEvent)
        let powerC = try #require(await transport.record("power c"))
        #expect(powerC.startEvent > registerC.endEvent)
    }

    @Test("with barrier: true every item waits for the whole step it needs")
    func barrierWaitsForAll() async throws {
        let transport = ScriptedTransport(Self.slowLastItem)
        let summary = try await runEngine(Self.pipeline.replacingOccurrences(of: "BARRIER", with: "barrier: true"), transport: transport)
        #expect(summary.outcome == .succeeded)
        let powerA = try #require(await transport.record("power a"))
        let registerC = try #require(await transport.record("register c"))
        #expect(powerA.startEvent > registerC.endEvent)
    }

    @Test("a pipelined step reads the same item's capture")
    func sameItemCapture() async throws {
        let transport = ScriptedTransport { _, command, _ in
            command.hasPrefix("register ") ? .init(stdout: "\(command.count * 7)\n") : .init()
        }
        let summary = try await runEngine("""
        runbook: caps
        steps:
          - id: register
            foreach: [x, yy, zzz]
            on: h1
            run: "register {{ item }}"
            capture: { vmid: '^(\\d+)$' }
          - id: power
            needs: [register]
            foreach: [x, yy, zzz]
            on: h1
            run: "power {{ item }} {{ steps.register.vmid }}"
          - id: all
            needs: [power]
            on: h1
            run: "echo {{ steps.register.vmid }}"
        """, transport: transport)
        #expect(summary.outcome == .succeeded)
        let commands = await transport.commands
        #expect(commands.contains("power x 70"))
        #expect(commands.contains("power yy 77"))
        #expect(commands.contains("power zzz 84"))
        #expect(commands.contains("echo 70 77 84"))
    }

    @Test("items run by priority group, group n finishing before n+1, after their dependencies")
    func priorityAndDependencies() async throws {
        let inventory = Inventory(hosts: testInventory.hosts, vms: [
            Inventory.VM(name: "db-01", priority: 1),
            Inventory.VM(name: "cache-01", priority: 1),
            Inventory.VM(name: "app-01", priority: 2, dependsOn: ["db-01"]),
            Inventory.VM(name: "web-01", priority: 2, dependsOn: ["app-01"]),
            Inventory.VM(name: "report-01", priority: 3),
        ])
        // db-01 holds until cache-01 has started: both run together only if group 1 starts at once.
        let transport = ScriptedTransport { _, command, _ in
            command.contains("db-01") ? .init(delay: .milliseconds(20), until: "power cache-01") : .init(delay: .milliseconds(20))
        }
        let summary = try await runEngine("""
        runbook: prio
        steps:
          - id: power
            foreach: [report-01, web-01, app-01, cache-01, db-01]
            order: priority
            on: h1
            run: "power {{ item }}"
        """, transport: transport, inventory: inventory)
        #expect(summary.outcome == .succeeded)
        func record(_ name: String) async throws -> ScriptedTransport.Record { try #require(await transport.record("power \(name)")) }
        let db = try await record("db-01"), cache = try await record("cache-01"), app = try await record("app-01")
        let web = try await record("web-01"), report = try await record("report-01")
        // Decided by the order of starts and ends, never by the clock.
        #expect(app.startEvent > db.endEvent && app.startEvent > cache.endEvent, "group 2 starts after group 1 finished")
        #expect(web.startEvent > app.endEvent, "web-01 depends on app-01 in the same group")
        #expect(report.startEvent > web.endEvent && report.startEvent > app.endEvent, "group 3 after group 2")
        #expect(db.sawUntil && cache.startEvent < db.endEvent, "items of one group run together")
    }

    @Test("a VM whose dependency failed is skipped, naming the dependency")
    func failedDependency() async throws {
        let inventory = Inventory(hosts: testInventory.hosts, vms: [Inventory.VM(name: "db", priority: 1), Inventory.VM(name: "app", priority: 1, dependsOn: ["db"])])
        let transport = ScriptedTransport { _, command, _ in .init(exit: command == "power db" ? 1 : 0) }
        let summary = try await runEngine("""
        runbook: dep
        steps:
          - { id: power, foreach: [app, db], order: priority, on: h1, run: "power {{ item }}" }
        """, transport: transport, inventory: inventory)
        #expect(summary.status("power", 1) == .failed)
        #expect(summary.status("power", 0) == .skipped)
        #expect(summary.items(of: "power")[0].outcome.reason?.contains("db, which it depends on") == true)
        #expect(await transport.commands == ["power db"])
    }

    @Test("global limit: never more than max_parallel commands at once, and it is reached")
    func globalLimit() async throws {
        // The first two keep running until the third has started: the limit is reached by the
        // order of events, not by how fast a loaded machine starts them.
        let transport = ScriptedTransport { _, command, call in
            call == 1 && ["work h1", "work h2"].contains(command) ? .init(until: "work h3") : .init()
        }
        let summary = try await runEngine("""
        runbook: limits
        steps:
          - id: work
            foreach: [h1, h2, h3, h4, h5, h1, h2, h3, h4, h5]
            on: "{{ item }}"
            run: "work {{ item }}"
        """, transport: transport,
        options: RunOptions(maxParallel: 3, maxPerHost: 4))
        #expect(summary.status("work") == .succeeded)
        #expect(await transport.maxRunning == 3)
        #expect(await transport.records.filter { $0.command == "work h1" || $0.command == "work h2" }.contains { $0.sawUntil })
    }

    @Test("per-host limit: never more than max_per_host on one host, and it is reached")
    func perHostLimit() async throws {
        // h1's commands hold until h2's first has started: the overlap is decided by that order,
        // not by how fast a loaded machine runs 40 ms sleeps.
        let transport = ScriptedTransport { _, command, _ in
            command.hasPrefix("work") ? .init(delay: .milliseconds(40), until: "other 1") : .init(delay: .milliseconds(40))
        }
        let summary = try await runEngine("""
        runbook: limits
        limits: { max_per_host: 2 }
        steps:
          - { id: work, foreach: [1, 2, 3, 4, 5, 6, 7, 8], on: h1, run: "work {{ item }}" }
          - { id: other, foreach: [1, 2, 3], on: h2, run: "other {{ item }}" }
        """, transport: transport)
        #expect(summary.outcome == .succeeded)
        #expect(await transport.maxRunningPerHost["h1"] == 2)
        #expect(await transport.maxRunning > 2, "other hosts are not held back by h1's limit")
    }

    @Test("a multi-host step gives list outputs tagged with their host")
    func multiHostOutputs() async throws {
        let transport = ScriptedTransport { host, command, _ in
            command == "vim-cmd vmsvc/getallvms"
                ? .init(stdout: "Vmid   Name   File   Guest OS   Version   Annotation\n1   vm-\(host)   [ds] vm-\(host)/vm-\(host).vmx   otherGuest   vmx-13\n")
                : .init()
        }
        let summary = try await runEngine("""
        runbook: multi
        steps:
          - { id: list, on: [h1, h2], action: vm.getallvms }
          - { id: show, needs: [list], on: h3, run: "echo {{ steps.list.vms | where('host', 'h2') | names }}" }
        """, transport: transport)
        #expect(summary.outcome == .succeeded)
        #expect(await transport.commands.contains("echo vm-h2"))
    }
}
