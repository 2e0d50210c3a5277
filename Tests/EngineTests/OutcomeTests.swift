import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

/// The outcome comes from the goal, read live at the end; reads on several hosts go on without
/// the silent ones; fallback hosts; typed params; dry-runs that cannot finish their plan.
@Suite("honest outcomes")
struct OutcomeTests {
    /// `vms` lists three VMs; the goal reads `state` on h1 and wants each listed as "on".
    static func goalRunbook(handOff: Bool = false) -> String {
        """
        runbook: goal
        rto: 30m
        steps:
          - id: find
            on: h1
            run: "echo vms"
            mutates: false
            capture: { vms: { lines: true } }
        \(handOff ? """
          - id: restore
            needs: [find]
            approval: "Restore c from backup?"
            hand_off: "{{ ['c'] }}"
        """ : "")
        goal:
          description: every VM runs
          read:
            - id: state
              on: h1
              run: "state"
              mutates: false
              capture: { on: { lines: true } }
          require:
            - each: "{{ steps.find.vms }}"
              holds: "item in steps.state.on"
              shows: "{{ item }}"
        """
    }

    func transport(running: [String]) -> ScriptedTransport {
        ScriptedTransport { _, command, _ in
            command == "echo vms" ? .init(stdout: "a\nb\nc\n") : .init(stdout: running.map { $0 + "\n" }.joined())
        }
    }

    @Test("succeeded only when every item holds; partial, failed otherwise; the RTO is met only with succeeded",
          arguments: [(["a", "b", "c"], RunSummary.Outcome.succeeded, Int32(0)), (["a", "c"], .partial, 4), ([], .failed, 1)])
    func outcomes(_ running: [String], _ expected: RunSummary.Outcome, _ exit: Int32) async throws {
        let summary = try await runEngine(Self.goalRunbook(), transport: transport(running: running))
        #expect(summary.outcome == expected)
        #expect(summary.exitCode == exit)
        #expect(summary.goal?.items.map(\.label) == ["a", "b", "c"])
        #expect(summary.goal?.held.map(\.label) == running)
        #expect(summary.rtoMet == (expected == .succeeded), "the RTO is met only when the goal holds")
    }

    @Test("what a confirmed hand_off approval took over makes the run handed off, not failed")
    func handedOff() async throws {
        let summary = try await runEngine(Self.goalRunbook(handOff: true), transport: transport(running: ["a", "b"]))
        #expect(summary.outcome == .handedOff)
        #expect(summary.exitCode == 5)
        #expect(summary.goal?.sentence == "2 of 3 hold; handed off: c")
        let partial = try await runEngine(Self.goalRunbook(handOff: true), transport: transport(running: ["a"]))
        #expect(partial.outcome == .partial, "b is neither recovered nor handed off")
    }

    @Test("a goal whose list was never discovered is failed, not an empty success")
    func undiscovered() async throws {
        let transport = ScriptedTransport { _, command, _ in command == "echo vms" ? .init(exit: 1) : .init() }
        let summary = try await runEngine(Self.goalRunbook(), transport: transport)
        #expect(summary.outcome == .failed)
        #expect(summary.goal?.problem?.contains("step 'find'") == true)
    }

    @Test("a read on several hosts goes on without a host that does not answer, names it, and tells the approver; one that answered with an error is not called silent")
    func tolerantRead() async throws {
        let transport = ScriptedTransport { host, _, _ in
            switch host {
            case "h2": .init(unreachable: true)
            case "h3": .init(stderr: "hostd down", exit: 1)
            default: .init(stdout: "x-\(host)\n")
            }
        }
        let gate = RecordingGate()
        let summary = try await runEngine("""
        runbook: tolerant
        steps:
          - id: look
            on: [h1, h2, h3]
            run: "look"
            mutates: false
            capture: { seen: { lines: true } }
            set:
              everything: "{{ result.seen | join(',') }}"
          - id: approve
            needs: [look]
            approval: "Go on with {{ steps.look.everything }}?"
        """, transport: transport, gate: gate)
        #expect(summary.status("look") == .succeeded)
        let look = try #require(summary.items(of: "look").first?.outcome)
        #expect(look.outputs["everything"] == "x-h1", "set: reads the hosts that answered")
        #expect(look.outputs["answered"] == ["h1"])
        #expect(look.outputs["unanswered"]?.listValue?.map { $0["host"] } == ["h2"])
        #expect(look.outputs["answered_with_error"]?.listValue?.map { $0["host"] } == ["h3"])
        #expect(look.reason?.hasPrefix("1 of 3 hosts answered; no answer from h2") == true)
        #expect(look.reason?.contains("; failed on h3") == true)
        let evidence = try #require(await gate.requests.first?.evidence)
        #expect(evidence.contains { $0.label == "hosts that did not answer" && $0.value.hasPrefix("h2 (look: ") })
        #expect(!evidence.contains { $0.label == "hosts that did not answer" && $0.value.contains("h3") })
        #expect(evidence.contains { $0.label == "hosts that answered, but not as needed" && $0.value.hasPrefix("h3 (look: ") })
    }

    @Test("a read no host answers fails; a change that fails on one host fails")
    func intolerant() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(exit: 1) }
        let none = try await runEngine("runbook: r\nsteps:\n  - { id: look, on: [h1, h2], run: look, mutates: false }\n", transport: transport)
        #expect(none.status("look") == .failed)
        let one = ScriptedTransport { host, _, _ in .init(exit: host == "h2" ? 1 : 0) }
        let change = try await runEngine("runbook: r\nsteps:\n  - { id: change, on: [h1, h2], run: change }\n", transport: one)
        #expect(change.status("change") == .failed)
    }

    @Test("fallback moves to the next host on a definite refusal, says which hosts were tried, and stops at an uncertain one")
    func fallback() async throws {
        let refusing = ScriptedTransport { host, _, _ in host == "h1" ? .init(stdout: "(vim.fault.NotFound) {\n   msg = \"gone\"\n}\n", exit: 1) : .init(stdout: "7\n") }
        let yaml = """
        runbook: f
        steps:
          - id: register
            on: [h1, h2, h3]
            fallback: true
            run: "register"
            capture: { vmid: '^(\\d+)$' }
          - id: use
            needs: [register]
            on: "{{ steps.register.host }}"
            run: "use {{ steps.register.vmid }}"
        """
        let summary = try await runEngine(yaml, transport: refusing)
        #expect(summary.outcome == .succeeded)
        let register = try #require(summary.items(of: "register").first?.outcome)
        #expect(register.outputs["host"] == "h2")
        #expect(register.reason?.hasPrefix("on h2 after h1: ") == true)
        #expect(await refusing.commands.filter { $0 == "register" }.count == 2, "h3 is never tried")
        #expect(await refusing.records.contains { $0.host == "h2" && $0.command == "use 7" })

        let allRefuse = try await runEngine(yaml, transport: ScriptedTransport { _, _, _ in .init(exit: 1) })
        #expect(allRefuse.items(of: "register").first?.outcome.reason?.hasPrefix("no eligible host succeeded; tried h1: ") == true)

        // A timeout may have taken effect: it is not tried elsewhere.
        let slow = ScriptedTransport { host, _, _ in host == "h1" ? .init(delay: .seconds(5)) : .init(stdout: "7\n") }
        let timedOut = try await runEngine(yaml.replacingOccurrences(of: "fallback: true", with: "fallback: true\n    timeout: 50ms"), transport: slow)
        #expect(timedOut.status("register") == .failed)
        #expect(await slow.commands.filter { $0 == "register" }.count == 1)
        #expect(timedOut.items(of: "register").first?.outcome.reason?.contains("not tried elsewhere") == true)
    }

    @Test("typed params name inventory objects, with did-you-mean")
    func typedParams() throws {
        let runbook = try loadRunbook("""
        runbook: t
        params:
          - { name: failed_host, type: host, required: true }
          - { name: ds, type: datastore, default: ds-1 }
        steps:
          - { id: s, on: "{{ params.failed_host }}", run: "true" }
        """)
        let inventory = Inventory(hosts: testInventory.hosts, datastores: [Inventory.Datastore(name: "ds-1")])
        #expect(throws: ParameterBinding.Problem.self) { try ParameterBinding.bind(runbook, ["failed_host": "h9"], inventory: inventory) }
        do {
            _ = try ParameterBinding.bind(runbook, ["failed_host": "hh1"], inventory: inventory)
        } catch let problem as ParameterBinding.Problem {
            #expect(problem.description.contains("'hh1' is not a host of the inventory (did you mean 'h1'?)"))
        }
        #expect(try ParameterBinding.bind(runbook, ["failed_host": "h1"], inventory: inventory)["failed_host"] == "h1")
    }

    @Test("a dry-run whose discovery failed is incomplete and exits 1; one that planned everything exits 0")
    func incompletePlan() async throws {
        let yaml = """
        runbook: d
        steps:
          - { id: find, on: h1, run: find, mutates: false }
          - { id: change, needs: [find], on: h1, run: change }
          - { id: reread, needs: [change], on: h1, run: reread, mutates: false }
        """
        let failing = ScriptedTransport { _, command, _ in .init(exit: command == "find" ? 1 : 0) }
        let incomplete = try await runEngine(yaml, transport: failing, options: RunOptions(dryRun: true))
        #expect(incomplete.outcome == .planIncomplete && incomplete.exitCode == 1)
        let working = ScriptedTransport()
        let complete = try await runEngine(yaml, transport: working, options: RunOptions(dryRun: true))
        #expect(complete.outcome == .planned && complete.exitCode == 0)
        #expect(await working.commands == ["find"], "a read after a change the dry-run did not make is planned, not run")
        #expect(complete.plan.contains { $0.step == "reread" && !$0.executed })
    }
}

/// Approves everything and keeps what it was shown.
actor RecordingGate: ApprovalGate {
    private(set) var requests: [ApprovalRequest] = []

    func decide(_ request: ApprovalRequest) async -> ApprovalDecision {
        requests.append(request)
        return .approved(by: "tester", reason: "")
    }

    func decideFailure(_ request: FailureQuestion) async -> FailureDecision { .abort }
}

@Suite("after: ordering without depending")
struct AfterTests {
    @Test("a step after another starts once it finished, even when it failed, and is not skipped by that failure")
    func afterFailure() async throws {
        let transport = ScriptedTransport { _, command, _ in .init(exit: command == "power" ? 1 : 0) }
        let summary = try await runEngine("""
        runbook: a
        steps:
          - { id: power, on: h1, run: power }
          - { id: restore, on: h2, run: restore, after: [power] }
        """, transport: transport)
        #expect(summary.status("power") == .failed)
        #expect(summary.status("restore") == .succeeded)
        let power = try #require(await transport.record("power")), restore = try #require(await transport.record("restore"))
        #expect(restore.startEvent > power.endEvent)
    }
}
