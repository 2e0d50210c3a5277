import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

/// The outcome rule of docs/runbook-format.md, branch by branch: each test tries to make the run
/// say `succeeded` when it must not.
@Suite("the outcome rule")
struct OutcomeRuleTests {
    /// `find` lists VMs on h1 (`echo vms`); `extra` runs after it; the goal wants each VM in `state`.
    static func runbook(extra: String = "", noneFound: Bool = false) -> String {
        """
        runbook: rule
        rto: 30m
        steps:
          - id: find
            on: h1
            run: "echo vms"
            mutates: false
            capture: { vms: { lines: true } }
        \(extra)
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
        \(noneFound ? "      none_found: \"no VM was found on h1: check that it is the right host\"" : "")
        """
    }

    func transport(vms: [String], running: [String], failing: String? = nil) -> ScriptedTransport {
        ScriptedTransport { _, command, _ in
            if command == failing { return .init(stderr: "refused", exit: 1) }
            if command == "echo vms" { return .init(stdout: vms.map { $0 + "\n" }.joined()) }
            return .init(stdout: running.map { $0 + "\n" }.joined())
        }
    }

    static let failingStep = """
          - id: tidy
            needs: [find]
            on: h1
            run: "tidy"
        """

    @Test("a goal with nothing to check is never success: it says so, in the runbook's words when it has them")
    func nothingChecked() async throws {
        let summary = try await runEngine(Self.runbook(), transport: transport(vms: [], running: []))
        #expect(summary.outcome == .failed)
        #expect(summary.exitCode == 1)
        #expect(summary.rtoMet == false)
        #expect(summary.goal?.problem?.hasPrefix("nothing to check: {{ steps.find.vms }} came out empty") == true)
        let said = try await runEngine(Self.runbook(noneFound: true), transport: transport(vms: [], running: []))
        #expect(said.outcome == .failed)
        #expect(said.goal?.problem == "nothing to check: no VM was found on h1: check that it is the right host")
        #expect(said.goal?.sentence.contains("could not be checked") == true)
    }

    @Test("a failed step keeps a goal that holds from being success: partial, naming the step")
    func failedStepWithGoalHolding() async throws {
        let summary = try await runEngine(Self.runbook(extra: Self.failingStep), transport: transport(vms: ["a"], running: ["a"], failing: "tidy"))
        #expect(summary.goal?.held.map(\.label) == ["a"])
        #expect(summary.outcome == .partial)
        #expect(summary.exitCode == 4)
        #expect(summary.rtoMet == false)
        #expect(summary.goal?.sentence.hasPrefix("1 of 1 hold; but step 'tidy' failed") == true)
    }

    @Test("a step that never ran (its need failed) keeps the run from success too")
    func unreachedStep() async throws {
        let extra = Self.failingStep + """

          - id: confirm
            needs: [tidy]
            approval: "Checked in vCenter?"
        """
        let summary = try await runEngine(Self.runbook(extra: extra), transport: transport(vms: ["a"], running: ["a"], failing: "tidy"))
        #expect(summary.outcome == .partial)
        #expect(summary.goal?.stepsNotSucceeded.contains { $0.hasPrefix("step 'confirm' did not run") } == true)
    }

    @Test("a failure the runbook allows (on_failure: continue) does not stand in the way")
    func allowedFailure() async throws {
        let summary = try await runEngine(Self.runbook(extra: Self.failingStep + "\n    on_failure: continue"),
                                          transport: transport(vms: ["a"], running: ["a"], failing: "tidy"))
        #expect(summary.outcome == .succeeded)
        #expect(summary.goal?.stepsNotSucceeded == [])
    }

    @Test("a denied approval keeps a goal that holds from being success")
    func denied() async throws {
        let extra = """
          - id: approve
            needs: [find]
            approval: "Go on?"
        """
        let summary = try await runEngine(Self.runbook(extra: extra), transport: transport(vms: ["a"], running: ["a"]), gate: DenyingGate())
        #expect(summary.outcome == .partial)
        #expect(summary.goal?.stepsNotSucceeded.contains { $0.hasPrefix("step 'approve' was denied") } == true)
    }

    @Test("ensure: a step whose outputs do not establish what the run needs fails with the runbook's words; nothing after it runs")
    func ensure() async throws {
        let extra = """
            set:
              count: "{{ result.vms | count }}"
            ensure:
              that: "result.count > 0"
              message: "no VM on h1 ({{ result.count }} found): check the host's name"
          - id: change
            needs: [find]
            on: h1
            run: "change"
        """
        let transport = transport(vms: [], running: [])
        let summary = try await runEngine(Self.runbook(extra: extra), transport: transport)
        #expect(summary.status("find") == .failed)
        #expect(summary.items(of: "find").first?.outcome.reason == "no VM on h1 (0 found): check the host's name")
        #expect(summary.status("change") == .skipped, "skipped because what it needs failed")
        #expect(await transport.records.map(\.command).contains("change") == false)
        #expect(summary.outcome == .failed)
        let holds = try await runEngine(Self.runbook(extra: extra), transport: self.transport(vms: ["a"], running: ["a"]))
        #expect(holds.status("find") == .succeeded)
        #expect(holds.outcome == .succeeded)
    }
}

extension OutcomeRuleTests {
    @Test("a step left out by its when: says why in the runbook's words; the rule is only evidence; what needs it still runs")
    func skippedBecause() async throws {
        let extra = """
          - id: power-on
            needs: [find]
            foreach: "{{ steps.find.vms }}"
            when: "item != 'b'"
            skipped_because: "left off: {{ item }} stays off"
            on: h1
            run: "power on {{ item }}"
          - id: after
            needs: [power-on]
            on: h1
            run: "after"
        """
        let summary = try await runEngine(Self.runbook(extra: extra), transport: transport(vms: ["a", "b"], running: ["a", "b"]))
        let skipped = try #require(summary.items(of: "power-on").first { $0.item.label == "b" }?.outcome)
        #expect(skipped.status == .skipped)
        #expect(skipped.reason == "left off: b stays off")
        #expect(skipped.evidence == "when: item != 'b' is false")
        #expect(skipped.skippedByItsCondition)
        #expect(summary.status("after") == .succeeded, "a skip by its own condition blocks nothing")
        #expect(summary.outcome == .succeeded)
    }
}

/// Denies every approval, as an operator answering `n`.
struct DenyingGate: ApprovalGate {
    func decide(_ request: ApprovalRequest) async -> ApprovalDecision { .denied(by: "tester", reason: "no") }
    func decideFailure(_ request: FailureQuestion) async -> FailureDecision { .abort }
}
