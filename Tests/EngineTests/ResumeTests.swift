import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

/// The engine given what an interrupted attempt left: finished items are kept, in-flight ones
/// settled before anything is sent again.
@Suite("engine resume")
struct EngineResumeTests {
    static let runbook = """
    runbook: resume
    steps:
      - { id: discover, on: h1, mutates: false, run: "list", capture: { name: { regex: "name=(\\\\S+)" } } }
      - id: register
        needs: [discover]
        on: h1
        run: "register {{ steps.discover.name }}"
        verify: { run: "is-registered {{ steps.discover.name }}" }
      - { id: start, needs: [register], on: h1, run: "start {{ steps.discover.name }}" }
    """

    func finished(_ outputs: [String: Value]) -> ResumeState.Finished {
        ResumeState.Finished(label: "", outcome: ItemOutcome(status: .succeeded, hosts: ["h1"], started: Date(), duration: .zero, attempts: 1,
                                                             reason: nil, evidence: nil, outputs: outputs))
    }

    static let quickSettle: RunOptions = {
        var options = RunOptions(runID: "r1")
        options.settle = .milliseconds(20)
        return options
    }()

    func run(_ resume: ResumeState, transport: ScriptedTransport, gate: any ApprovalGate = AutoApproveGate(approver: "t"),
             log: EventLog = EventLog(), options: RunOptions = quickSettle) async throws -> RunSummary {
        let engine = Engine(runbook: try loadRunbook(Self.runbook), inventory: testInventory, params: [:], transport: transport, gate: gate,
                            observers: [log], options: options, resume: resume)
        return await engine.run()
    }

    @Test("finished items are not run again, and later steps read their recorded outputs")
    func restored() async throws {
        let transport = ScriptedTransport()
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": "db 01"]),
                                            ResumeState.Key(step: "register", index: 0): finished([:])])
        let summary = try await run(resume, transport: transport)
        #expect(summary.exitCode == 0)
        #expect(await transport.commands == ["start 'db 01'"])
    }

    @Test("a resumed run's recovery time counts from its first start, the interruption included")
    func durationFromFirstStart() async throws {
        let firstStart = Date().addingTimeInterval(-600)
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": "db 01"]),
                                            ResumeState.Key(step: "register", index: 0): finished([:])], runStarted: firstStart)
        let summary = try await run(resume, transport: ScriptedTransport())
        #expect(summary.started == firstStart)
        #expect(summary.duration >= .seconds(600) && summary.duration < .seconds(660))
    }

    @Test("an in-flight item whose verify passes is settled as done; nothing is sent again")
    func settledByVerify() async throws {
        let transport = ScriptedTransport()
        let log = EventLog()
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": "db 01"])],
                                 inFlight: [ResumeState.Key(step: "register", index: 0): ""])
        let summary = try await run(resume, transport: transport, log: log)
        #expect(summary.status("register") == .alreadyDone)
        #expect(await transport.commands == ["is-registered 'db 01'", "start 'db 01'"])
        #expect(await log.events.contains { if case .inFlightSettled(_, _, _, let detail) = $0 { detail.contains("happened") } else { false } })
    }

    @Test("an in-flight change not there yet is waited for (the settle time) and checked again: when it landed late, it is not sent again")
    func landsLate() async throws {
        // The dead process's registration lands between the first check and the second.
        let transport = ScriptedTransport { _, command, call in .init(exit: command.hasPrefix("is-registered") && call == 1 ? 1 : 0) }
        let log = EventLog()
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": "db 01"])],
                                 inFlight: [ResumeState.Key(step: "register", index: 0): ""])
        let summary = try await run(resume, transport: transport, log: log)
        #expect(summary.status("register") == .alreadyDone)
        #expect(await transport.commands == ["is-registered 'db 01'", "is-registered 'db 01'", "start 'db 01'"])
        let details = await log.events.compactMap { if case .inFlightSettled(_, _, _, let detail) = $0 { detail } else { nil } }
        #expect(details == ["its verify check shows the change not done yet: waiting 20ms for it to land",
                            "its verify check shows the change landed late: not sent again"])
    }

    @Test("an in-flight item whose verify fails runs again")
    func verifyFails() async throws {
        let transport = ScriptedTransport { _, command, _ in .init(exit: command.hasPrefix("is-registered") ? 1 : 0) }
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": "db 01"])],
                                 inFlight: [ResumeState.Key(step: "register", index: 0): ""])
        let summary = try await run(resume, transport: transport)
        #expect(summary.status("register") == .succeeded)
        // Checked, waited for, checked again: only then sent again.
        #expect(await transport.commands == ["is-registered 'db 01'", "is-registered 'db 01'", "register 'db 01'", "start 'db 01'"])
    }

    @Test("an in-flight item without verify stops the run when nobody can answer, and sends nothing")
    func noVerifyNoAnswer() async throws {
        let transport = ScriptedTransport()
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": "db 01"]),
                                            ResumeState.Key(step: "register", index: 0): finished([:])],
                                 inFlight: [ResumeState.Key(step: "start", index: 0): ""])
        let summary = try await run(resume, transport: transport, gate: NonInteractiveGate())
        #expect(summary.exitCode == 3)
        #expect(summary.items(of: "start").first?.outcome.reason?.contains("drctl resume r1") == true)
        #expect(await transport.commands.isEmpty)
    }

    @Test("an operator's answer settles an in-flight item without verify")
    func operatorAnswers() async throws {
        struct Answers: ApprovalGate {
            let decision: InFlightDecision
            func decide(_ request: ApprovalRequest) async -> ApprovalDecision { .approved(by: "ana", reason: "") }
            func decideFailure(_ request: FailureQuestion) async -> FailureDecision { .abort }
            func decideInFlight(_ question: InFlightQuestion) async -> InFlightDecision { decision }
        }
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": "db 01"]),
                                            ResumeState.Key(step: "register", index: 0): finished([:])],
                                 inFlight: [ResumeState.Key(step: "start", index: 0): ""])
        let done = ScriptedTransport()
        #expect(try await run(resume, transport: done, gate: Answers(decision: .done(by: "ana"))).status("start") == .alreadyDone)
        #expect(await done.commands.isEmpty)
        let again = ScriptedTransport()
        #expect(try await run(resume, transport: again, gate: Answers(decision: .runAgain(by: "ana"))).status("start") == .succeeded)
        #expect(await again.commands == ["start 'db 01'"])
    }

    @Test("a restored value that was masked in the journal is never sent to a host")
    func maskedValue() async throws {
        let transport = ScriptedTransport()
        let resume = ResumeState(finished: [ResumeState.Key(step: "discover", index: 0): finished(["name": .string(Redactor.mask)])])
        let summary = try await run(resume, transport: transport)
        #expect(summary.status("register") == .failed)
        #expect(summary.items(of: "register").first?.outcome.reason?.contains("would send [redacted] to the host") == true)
        #expect(await transport.commands.allSatisfy { !$0.contains(Redactor.mask) })
    }
}
