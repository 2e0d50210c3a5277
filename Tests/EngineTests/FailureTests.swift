import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

@Suite("retries, timeouts, failures and exit codes")
struct FailureTests {
    @Test("retry with backoff: the delays grow by the factor and the third attempt succeeds")
    func retryBackoff() async throws {
        let transport = ScriptedTransport { _, _, call in .init(stderr: call < 3 ? "busy" : "", exit: call < 3 ? 1 : 0) }
        let log = EventLog()
        let clock = ContinuousClock.now
        let summary = try await runEngine("""
        runbook: retry
        steps:
          - { id: flaky, on: h1, run: "flaky", retry: { attempts: 3, delay: 50ms, backoff: 2 } }
        """, transport: transport, log: log)
        let elapsed = ContinuousClock.now - clock
        #expect(summary.outcome == .succeeded)
        #expect(summary.items(of: "flaky")[0].outcome.attempts == 3)
        #expect(await log.retryDelays == [.milliseconds(50), .milliseconds(100)])
        #expect(elapsed >= .milliseconds(150))
    }

    @Test("retries give up after the last attempt, with the output that shows why")
    func retriesExhausted() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(stdout: "Power on failed", exit: 1) }
        let summary = try await runEngine("""
        runbook: retry
        steps:
          - { id: flaky, on: h1, run: "flaky", retry: { attempts: 2, delay: 10ms } }
        """, transport: transport)
        #expect(summary.outcome == .failed)
        #expect(summary.exitCode == 1)
        #expect(await transport.commands.count == 2)
        let reason = try #require(summary.items(of: "flaky")[0].outcome.reason)
        #expect(reason.contains("exit status 1") && reason.contains("Power on failed"))
    }

    @Test("a command that outlives its timeout fails quickly with 'timed out'")
    func timeout() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(delay: .seconds(60)) }
        let clock = ContinuousClock.now
        let summary = try await runEngine("""
        runbook: slow
        steps:
          - { id: slow, on: h1, run: "sleep", timeout: 100ms }
        """, transport: transport)
        // Only tells "cut short" from "waited the 60 s out": a loaded machine can stall the test pool for many seconds.
        #expect(ContinuousClock.now - clock < .seconds(55), "the 60 s command was cut short")
        #expect(summary.status("slow") == .failed)
        #expect(summary.items(of: "slow")[0].outcome.reason?.contains("timed out after 100ms") == true)
    }

    static let branches = """
    runbook: branches
    steps:
      - { id: a, on: h1, run: "fail-a" ONFAILURE }
      - { id: b, needs: [a], on: h1, run: "after-a" }
      - { id: c, on: h2, run: "c" }
      - { id: d, needs: [c], on: h2, run: "after-c" }
    """

    @Test("a failed step skips only its dependents; independent branches finish")
    func failureIsolation() async throws {
        let transport = ScriptedTransport { _, command, _ in .init(exit: command == "fail-a" ? 1 : 0) }
        let summary = try await runEngine(Self.branches.replacingOccurrences(of: "ONFAILURE", with: ""), transport: transport)
        #expect(summary.status("a") == .failed)
        #expect(summary.status("b") == .skipped)
        #expect(summary.status("c") == .succeeded)
        #expect(summary.status("d") == .succeeded)
        #expect(summary.exitCode == 1)
        #expect(!(await transport.commands.contains("after-a")))
    }

    @Test("on_failure: continue lets dependents run, and the run still reports the failure")
    func continueOnFailure() async throws {
        let transport = ScriptedTransport { _, command, _ in .init(exit: command == "fail-a" ? 1 : 0) }
        let summary = try await runEngine(Self.branches.replacingOccurrences(of: "ONFAILURE", with: ", on_failure: continue"), transport: transport)
        #expect(summary.status("a") == .failedContinued)
        #expect(summary.status("b") == .succeeded)
        #expect(await transport.commands.contains("after-a"))
    }

    @Test("on_failure: ask follows the operator's answer")
    func askOnFailure() async throws {
        struct RetryOnce: ApprovalGate {
            func decide(_ request: ApprovalRequest) async -> ApprovalDecision { .approved(by: "t", reason: "") }
            func decideFailure(_ request: FailureQuestion) async -> FailureDecision { request.attempts == 1 ? .retry : .abort }
        }
        let transport = ScriptedTransport { _, _, call in .init(exit: call == 1 ? 1 : 0) }
        let summary = try await runEngine("runbook: ask\nsteps:\n  - { id: a, on: h1, run: x, on_failure: ask }\n", transport: transport, gate: RetryOnce())
        #expect(summary.outcome == .succeeded)
        #expect(await transport.commands == ["x", "x"])
    }

    static let gated = """
    runbook: gated
    steps:
      - { id: look, on: h1, mutates: false, run: "look" }
      - { id: gate, needs: [look], approval: "Go ahead?" }
      - { id: change, needs: [gate], on: h1, run: "change" }
      - { id: independent, on: h2, run: "other" }
    """

    @Test("without anyone to answer, the run stops at the approval (exit 3) and finishes independent work")
    func stopsAtApproval() async throws {
        let transport = ScriptedTransport()
        let summary = try await runEngine(Self.gated, transport: transport, gate: NonInteractiveGate())
        #expect(summary.outcome == .awaitingApproval)
        #expect(summary.exitCode == 3)
        #expect(summary.status("change") == .notStarted)
        #expect(summary.status("independent") == .succeeded)
        #expect(!(await transport.commands.contains("change")))
    }

    @Test("an approval records who approved")
    func approvalRecorded() async throws {
        let summary = try await runEngine(Self.gated, transport: ScriptedTransport(), gate: AutoApproveGate(approver: "alice"))
        #expect(summary.exitCode == 0)
        #expect(summary.approvals.map(\.decision) == [.approved(by: "alice", reason: "--auto-approve")])
    }

    @Test("a denied approval fails the run and skips what it guards")
    func denied() async throws {
        struct Deny: ApprovalGate {
            func decide(_ request: ApprovalRequest) async -> ApprovalDecision { .denied(by: "bob", reason: "not yet") }
            func decideFailure(_ request: FailureQuestion) async -> FailureDecision { .abort }
        }
        let transport = ScriptedTransport()
        let summary = try await runEngine(Self.gated, transport: transport, gate: Deny())
        #expect(summary.status("gate") == .denied)
        #expect(summary.status("change") == .skipped)
        #expect(summary.exitCode == 1)
    }

    @Test("a stop request lets running commands finish, starts nothing new, and exits 130")
    func interrupted() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(delay: .milliseconds(200)) }
        let runbook = try loadRunbook("""
        runbook: stop
        steps:
          - { id: first, on: h1, run: "first" }
          - { id: second, needs: [first], on: h1, run: "second" }
        """)
        let log = EventLog()
        let engine = Engine(runbook: runbook, inventory: testInventory, params: [:], transport: transport, gate: NonInteractiveGate(), observers: [log])
        async let summary = engine.run()
        // Stop once the first command is running, however loaded the machine is.
        while !(await log.events.contains { if case .commandSent = $0 { return true } else { return false } }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        engine.requestStop()
        let result = await summary
        #expect(result.exitCode == 130)
        #expect(result.status("first") == .succeeded, "the running command finished")
        #expect(result.status("second") == .notStarted)
        #expect(await transport.commands == ["first"])
    }

    @Test("when: false skips an item without blocking what needs it")
    func whenFalse() async throws {
        let transport = ScriptedTransport()
        let summary = try await runEngine("""
        runbook: when
        params: [{ name: mode, default: quick }]
        steps:
          - { id: a, on: h1, when: "params.mode == 'full'", run: "full" }
          - { id: b, needs: [a], on: h1, run: "next" }
        """, transport: transport)
        #expect(summary.status("a") == .skipped)
        #expect(summary.status("b") == .succeeded)
        #expect(await transport.commands == ["next"])
    }

    @Test("expectations: output conditions decide success")
    func expectations() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(stdout: "Powering on VM:\nPower on failed\n") }
        let summary = try await runEngine("""
        runbook: expect
        steps:
          - { id: a, on: h1, run: "x", expect: { stdout_not_contains: "failed" } }
        """, transport: transport)
        #expect(summary.status("a") == .failed)
        #expect(summary.items(of: "a")[0].outcome.reason?.contains("the output contains 'failed'") == true)
    }

    @Test("a probe's state decides success; a down host is success when down is expected")
    func probes() async throws {
        let transport = ScriptedTransport()
        await transport.setProbe("h1", .down)
        let summary = try await runEngine("""
        runbook: probes
        steps:
          - { id: down, probe: { target: h1, expect: down } }
          - { id: up, probe: { target: h1, expect: up } }
        """, transport: transport)
        #expect(summary.status("down") == .succeeded)
        #expect(summary.status("up") == .failed)
        #expect(summary.items(of: "up")[0].outcome.reason?.contains("expected h1 to be up, but it is down") == true)
    }

    @Test("a wait repeats its check until the condition holds")
    func waitUntil() async throws {
        let transport = ScriptedTransport { _, _, call in .init(stdout: call >= 3 ? "mounted\n" : "missing\n") }
        let summary = try await runEngine("""
        runbook: wait
        steps:
          - id: mounted
            on: h1
            wait: { run: "check", until: "result.stdout contains 'mounted' and not (result.stdout contains 'missing')", interval: 20ms, timeout: 60s }
        """, transport: transport)
        #expect(summary.status("mounted") == .succeeded)
        #expect(await transport.commands.count == 3)
    }

    @Test("a wait that never holds fails at its timeout, saying what it last saw")
    func waitTimeout() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(stdout: "missing\n") }
        let summary = try await runEngine("""
        runbook: wait
        steps:
          - { id: w, on: h1, wait: { run: "check", until: "result.stdout contains 'mounted'", interval: 20ms, timeout: 100ms } }
        """, transport: transport)
        #expect(summary.status("w") == .failed)
        let reason = try #require(summary.items(of: "w")[0].outcome.reason)
        #expect(reason.contains("did not hold within 100ms") && reason.contains("missing"))
    }

    @Test("a step's timeout bounds each check of a wait, not the wait: every check gets the whole of it, and the wait runs to its own timeout")
    func waitLongerThanStepTimeout() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(stdout: "missing\n") }
        var options = RunOptions()
        options.clock = ClockTests.SkippingClock()
        let summary = try await runEngine("""
        runbook: wait
        steps:
          - { id: w, on: h1, timeout: 2m, wait: { run: "check", until: "result.stdout contains 'mounted'", interval: 1m, timeout: 5m } }
        """, transport: transport, options: options)
        let reason = try #require(summary.items(of: "w")[0].outcome.reason)
        #expect(reason.contains("did not hold within 5m00s (6 checks)"), "\(reason)")
        #expect(await transport.timeouts == Array(repeating: .seconds(120), count: 6), "each check has the step's 2 minutes, not what is left of them")
    }

    @Test("a wait stopped by Ctrl-C is not a failure: it ends not-started, so a resume waits again; each check is an event")
    func waitInterrupted() async throws {
        let transport = ScriptedTransport { _, _, _ in .init(stdout: "missing\n") }
        let log = EventLog()
        let runbook = try loadRunbook("""
        runbook: wait
        steps:
          - { id: w, on: h1, on_failure: continue, wait: { run: "check", until: "result.stdout contains 'mounted'", interval: 30s, timeout: 10m } }
        """)
        let stopper = StopOnFirstCheck()
        let engine = Engine(runbook: runbook, inventory: testInventory, params: [:], transport: transport, gate: AutoApproveGate(approver: "t"),
                            observers: [log, stopper])
        stopper.engine = engine
        let summary = await engine.run()
        let outcome = summary.items(of: "w")[0].outcome
        #expect(outcome.status == .notStarted, "\(outcome)")
        #expect(outcome.reason?.contains("interrupted while waiting, after 1 check") == true, "\(outcome.reason ?? "")")
        #expect(!ResumeState.keeps(outcome))
        let checks = await log.events.compactMap { event -> (Int, Bool)? in
            if case .waitChecked(_, _, let host, let check, let holds, _, _) = event, host == "h1" { return (check, holds) } else { return nil }
        }
        #expect(checks.count == 1 && checks[0] == (1, false))
    }
}

/// Stops the engine when a wait's first check is recorded: Ctrl-C in the middle of a 30 s interval.
final class StopOnFirstCheck: RunObserver, @unchecked Sendable {
    var engine: Engine?

    func record(_ event: RunEvent) async {
        if case .waitChecked = event { engine?.requestStop() }
    }
}
