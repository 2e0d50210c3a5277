import DrctlCore
@testable import Engine
import Foundation
@testable import Journal
import Testing

/// The journal as the checkpoint: replaying it gives back what finished, with its outputs, and
/// what was left in flight.
@Suite("replay")
struct ReplayTests {
    static let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-replay-tests").path

    func outcome(_ status: ItemOutcome.Status, outputs: [String: Value] = [:], reason: String? = nil) -> ItemOutcome {
        ItemOutcome(status: status, hosts: ["esxi-02"], started: Date(), duration: .milliseconds(12), attempts: 1, reason: reason, evidence: nil, outputs: outputs)
    }

    func replay(_ events: [RunEvent], inlineLimit: Int = 16 * 1024, steps: [RunHeader.StepInfo] = [], redactor: Redactor = Redactor()) async throws -> JournalReplay {
        let run = try RunDirectory.create(id: "replay-\(UUID().uuidString.prefix(8))", in: Self.runs)
        let header = RunHeader(runbookFile: "/r.yaml", runbookSource: "runbook: r\n", inventoryFile: "/site.yaml", inventorySource: "hosts: []\n",
                               hosts: ["esxi-02 10.0.0.12"], steps: steps, rto: .seconds(60), drill: nil)
        let writer = try JournalWriter(directory: run, header: header, redactor: redactor, inlineLimit: inlineLimit)
        for event in events { await writer.record(event) }
        await writer.close()
        return try JournalReplay(try #require(RecordedJournal.load(run: run.id, in: Self.runs)))
    }

    func item(_ index: Int, _ label: String) -> ItemRef { ItemRef(index: index, label: label) }

    @Test("finished items come back with their outputs (types kept); failures and never-started items do not")
    func finishedItems() async throws {
        let outputs: [String: Value] = ["vmid": .int(7), "on": .bool(true), "name": "db-01", "list": [1, "two"], "none": .null]
        let state = try await replay([
            .runStarted(runbook: "r", dryRun: false, params: ["failed_host": "esxi-01", "limit": .int(3)]),
            .itemStarted(step: "register", item: item(0, "db-01")),
            .itemFinished(step: "register", item: item(0, "db-01"), outcome: outcome(.succeeded, outputs: outputs)),
            .itemStarted(step: "register", item: item(1, "app-01")),
            .itemFinished(step: "register", item: item(1, "app-01"), outcome: outcome(.failed, reason: "NotFound")),
            .itemFinished(step: "power-on", item: item(1, "app-01"), outcome: outcome(.skipped, reason: "'register' failed")),
            .itemFinished(step: "tidy", item: .single, outcome: outcome(.skipped, reason: "when: params.skip is false")),
        ])
        #expect(state.params == ["failed_host": "esxi-01", "limit": .int(3)])
        #expect(state.inventoryFile == "/site.yaml" && state.inventorySHA256 != nil)
        let kept = try #require(state.state.finished[ResumeState.Key(step: "register", index: 0)])
        #expect(kept.label == "db-01" && kept.outcome.status == .succeeded)
        #expect(kept.outcome.outputs["vmid"] == .int(7) && kept.outcome.outputs["on"] == .bool(true) && kept.outcome.outputs["list"] == [1, "two"])
        #expect(kept.outcome.outputs["none"] == .null)
        #expect(state.state.finished[ResumeState.Key(step: "register", index: 1)] == nil, "a failure runs again")
        #expect(state.state.finished[ResumeState.Key(step: "power-on", index: 1)] == nil, "skipped because of a failure: runs again")
        #expect(state.state.finished[ResumeState.Key(step: "tidy", index: 0)] != nil, "skipped by its when: kept")
        #expect(state.state.inFlight.isEmpty)
        #expect(state.lastOutcome == nil && state.attempts == 1)
    }

    @Test("an item that sent a changing command and never ended is in flight; one that only read is not")
    func inFlight() async throws {
        let state = try await replay([
            .runStarted(runbook: "r", dryRun: false, params: [:]),
            .itemStarted(step: "power-on", item: item(2, "web")),
            .commandSent(step: "power-on", item: item(2, "web"), host: "esxi-02", command: "vim-cmd vmsvc/power.on 3", mutates: true),
            .itemStarted(step: "inventory", item: .single),
            .commandSent(step: "inventory", item: .single, host: "esxi-02", command: "vim-cmd vmsvc/getallvms", mutates: false),
        ])
        #expect(state.state.inFlight == [ResumeState.Key(step: "power-on", index: 2): "web"])
        #expect(state.state.finished.isEmpty)
    }

    @Test("large outputs come back from outputs/; a later attempt's ending replaces an earlier one")
    func largeOutputsAndAttempts() async throws {
        let big = String(repeating: "vm ", count: 2000)
        let state = try await replay([
            .runStarted(runbook: "r", dryRun: false, params: [:]),
            .itemStarted(step: "list", item: .single),
            .itemFinished(step: "list", item: .single, outcome: outcome(.succeeded, outputs: ["stdout": .string(big)])),
            .itemStarted(step: "gate", item: .single),
            .itemFinished(step: "gate", item: .single, outcome: outcome(.awaitingApproval)),
            .runEnded(RunSummary(runbook: "r", outcome: .awaitingApproval, steps: [], approvals: [], plan: [], started: Date(), duration: .zero, rto: nil)),
            .runResumed(runbook: "r", restored: 1, inFlight: []),
            .itemStarted(step: "gate", item: .single),
            .itemFinished(step: "gate", item: .single, outcome: outcome(.succeeded, outputs: ["approved_by": "ana"])),
        ], inlineLimit: 1024)
        #expect(state.state.finished[ResumeState.Key(step: "list", index: 0)]?.outcome.outputs["stdout"] == .string(big))
        #expect(state.state.finished[ResumeState.Key(step: "gate", index: 0)]?.outcome.outputs["approved_by"] == "ana")
        #expect(state.attempts == 2 && state.lastOutcome == nil)
    }

    @Test("a read whose outputs were masked runs again on resume; a change's item is kept")
    func maskedReadsRunAgain() async throws {
        let state = try await replay([
            .runStarted(runbook: "r", dryRun: false, params: [:]),
            .itemFinished(step: "token", item: .single, outcome: outcome(.succeeded, outputs: ["token": "token=s3cr3t-42"])),
            .itemFinished(step: "login", item: .single, outcome: outcome(.succeeded, outputs: ["session": "token=s3cr3t-42"])),
        ], steps: [RunHeader.StepInfo(id: "token", title: "", kind: "run", action: nil, mutates: false),
                   RunHeader.StepInfo(id: "login", title: "", kind: "run", action: nil, mutates: true)],
           redactor: Redactor(patterns: ["token=\\S+"])).state
        #expect(state.finished[ResumeState.Key(step: "token", index: 0)] == nil, "read again, so the value is real")
        #expect(state.finished[ResumeState.Key(step: "login", index: 0)] != nil, "a change is never made twice")
    }
}

@Suite("integrity an auditor can anchor")
struct IntegrityTests {
    @Test("an altered outputs/ file breaks the chain at the line that names it; the head is the last line's hash")
    func alteredOutput() async throws {
        let run = try RunDirectory.create(id: "integrity-\(UUID().uuidString.prefix(8))", in: ReplayTests.runs)
        let writer = try JournalWriter(directory: run, inlineLimit: 64)
        await writer.record(.runStarted(runbook: "r", dryRun: false, params: [:]))
        await writer.record(.itemFinished(step: "find", item: .single, outcome: ItemOutcome(status: .succeeded, hosts: ["h1"], started: Date(), duration: .zero,
                                                                                              attempts: 1, reason: nil, evidence: nil,
                                                                                              outputs: ["vms": .list((1...20).map { .string("vm-\($0)") })])))
        await writer.close()
        let head = await writer.head  // the last line on disk, once the journal is closed
        let data = try Data(contentsOf: run.journal)
        let intact = JournalChain.verify(data, directory: run.url)
        #expect(intact.broken == nil && intact.head == head)
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: run.outputs.path).first)
        try Data("{\"vms\":[\"forged\"]}".utf8).write(to: run.outputs.appendingPathComponent(file))
        let broken = JournalChain.verify(data, directory: run.url)
        #expect(broken.broken?.line == 2)
        #expect(broken.broken?.reason.contains("was altered") == true)
        #expect(throws: (any Error).self) { try JournalRepair.inspect(run) }
    }
}
