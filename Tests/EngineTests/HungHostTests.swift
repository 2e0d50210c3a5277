import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

/// A host that accepts SSH and hangs costs one read timeout, once; a stop never waits out a
/// hung command.
@Suite("hung hosts")
struct HungHostTests {
    @Test("a host that hangs on a read costs the read timeout once: later reads on several hosts go on without it, saying why; its own step asks it again")
    func silentAfterOneTimeout() async throws {
        let clock = VirtualClock()
        var options = RunOptions()
        options.clock = clock
        options.readTimeout = .seconds(60)
        // h2 never answers within any timeout (a day); h1 answers at once.
        let transport = ScriptedTransport(clock: clock) { host, _, _ in host == "h2" ? .init(delay: .seconds(86_400)) : .init(stdout: "ok\n") }
        let summary = try await runEngine("""
        runbook: hung
        steps:
          - { id: first, on: [h1, h2], run: "first", mutates: false }
          - { id: second, needs: [first], on: [h1, h2], run: "second", mutates: false }
          - { id: third, needs: [second], on: [h1, h2], run: "third", mutates: false }
          - { id: alone, needs: [third], on: h2, run: "alone", mutates: false, on_failure: continue }
        """, transport: transport, options: options)
        #expect(summary.status("first") == .succeeded)
        #expect(summary.items(of: "first").first?.outcome.duration == .seconds(60), "the read timeout, not the 10-minute default")
        for step in ["second", "third"] {
            let outcome = try #require(summary.items(of: step).first?.outcome)
            #expect(outcome.status == .succeeded)
            #expect(outcome.duration < .seconds(1), "\(step) does not wait for h2 again")
            #expect(outcome.reason?.contains("h2: left out: it did not answer a read (step first) within 1m00s") == true, "\(outcome.reason ?? "")")
        }
        #expect(await transport.records.filter { $0.host == "h2" }.map(\.command) == ["first", "alone"], "asked again only where a step needs it alone")
        #expect(summary.items(of: "alone").first?.outcome.duration == .seconds(60))
    }

    @Test("a runbook's limits.read_timeout wins over the run's; a step's timeout: over both; a change keeps the long default")
    func readTimeoutSettings() async throws {
        let clock = VirtualClock()
        var options = RunOptions()
        options.clock = clock
        // Every command takes 30 s.
        let transport = ScriptedTransport(clock: clock) { _, _, _ in .init(stdout: "ok\n", delay: .seconds(30)) }
        let summary = try await runEngine("""
        runbook: r
        limits: { read_timeout: 20s }
        steps:
          - { id: look, on: h1, run: "look", mutates: false, on_failure: continue }
          - { id: slow, on: h1, run: "slow", mutates: false, timeout: 5m }
          - { id: change, on: h1, run: "change" }
        """, transport: transport, options: options)
        #expect(summary.status("look") == .failedContinued, "20 s is the read timeout here")
        #expect(summary.status("slow") == .succeeded)
        #expect(summary.status("change") == .succeeded, "a change is never cut at the read timeout")
    }

    @Test("Ctrl-C abandons a hung command after the stop's grace, leaving it for a resume to settle, never waiting out its timeout")
    func stopAbandons() async throws {
        var options = RunOptions(defaultTimeout: .seconds(3600))
        options.stopGrace = .milliseconds(200)
        let transport = ScriptedTransport { _, command, _ in command == "hang" ? .init(delay: .seconds(3600)) : .init() }
        let log = EventLog()
        let runbook = try loadRunbook("""
        runbook: stop
        steps:
          - { id: hang, on: h1, run: "hang" }
          - { id: after, needs: [hang], on: h1, run: "after" }
        """)
        let engine = Engine(runbook: runbook, inventory: testInventory, params: [:], transport: transport, gate: AutoApproveGate(approver: "t"),
                            observers: [log], options: options)
        let stopper = Task {
            // Stop once the command is on its way (decided by the run's events, not by time).
            while await !log.events.contains(where: { if case .commandSent = $0 { return true } else { return false } }) { try? await Task.sleep(for: .milliseconds(5)) }
            engine.requestStop()
        }
        let summary = await engine.run()
        _ = await stopper.value
        #expect(summary.outcome == .interrupted)
        let hang = try #require(summary.items(of: "hang").first?.outcome)
        #expect(hang.status == .notStarted, "left in flight for a resume to settle")
        #expect(hang.reason?.contains("abandoned 200ms after the stop, still running on h1") == true, "\(hang.reason ?? "")")
        #expect(await transport.records.contains { $0.command == "after" } == false)
    }
}
