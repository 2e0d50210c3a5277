import DrctlCore
import Foundation
import Testing

/// Approvals decided from another terminal or by another person: `drctl approve` and `drctl deny`.
@Suite("approvals from another terminal", .serialized)
struct RemoteApprovalTests {
    func entries(_ runs: String, _ run: String) throws -> [[String: Any]] {
        try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func lastRun(_ runs: String) throws -> String {
        try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.sorted().last)
    }

    @Test("a run stopped at an approval (exit 3) prints the commands to type; drctl approve leaves the decision, resume takes it, recorded with the account")
    func approveThenResume() async throws {
        let (arguments, runs) = try LeaseTests.gateRun()
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let stopped = try await CLI.run(arguments)
        #expect(stopped.status == 3)
        let run = try lastRun(runs)
        #expect(stopped.stdout.contains("drctl approve \(run) ok --runs-dir \(runs) --reason TEXT"), "\(stopped.stdout)")
        #expect(stopped.stdout.contains("drctl resume \(run) --runs-dir \(runs)"))

        let noReason = try await CLI.run(["deny", run, "ok", "--runs-dir", runs, "--reason", " "])
        #expect(noReason.status == 2)
        let typo = try await CLI.run(["approve", run, "okk", "--runs-dir", runs])
        #expect(typo.status == 2 && typo.stderr.contains("did you mean 'ok'"), "\(typo.stderr)")
        let approved = try await CLI.run(["approve", run, "ok", "--runs-dir", runs, "--reason", "checked with the storage team", "--operator", "Bob"])
        #expect(approved.status == 0, "\(approved.stderr)")
        let twice = try await CLI.run(["approve", run, "ok", "--runs-dir", runs])
        #expect(twice.status == 2 && twice.stderr.contains("already approved"), "\(twice.stderr)")

        let resumed = try await CLI.run(["resume", run, "--runs-dir", runs])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        let given = try #require(try entries(runs, run).first { $0["type"] as? String == "approval-given" })
        #expect(given["by"] as? String == "\(OperatorIdentity.current) [Bob] via drctl approve")
        #expect(given["reason"] as? String == "checked with the storage team")
        let over = try await CLI.run(["deny", run, "ok", "--runs-dir", runs, "--reason", "late"])
        #expect(over.status == 2 && over.stderr.contains("is over"), "\(over.stderr)")
    }

    @Test("a run waiting at the terminal prompt takes a decision made with drctl approve, and the prompt closes")
    func approveWhileWaiting() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-remote-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let terminal = try PseudoTerminal.spawn(CLI.binary, ApprovalPromptTests.drill + ["--runs-dir", runs])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        let approved = try await CLI.run(["approve", try lastRun(runs), "approve-recovery", "--runs-dir", runs, "--reason", "from the bridge call"])
        #expect(approved.status == 0, "\(approved.stderr)")
        let shown = try await terminal.read(until: "via drctl approve")
        #expect(shown.contains("approve-recovery: approved by"))
        // The drill goes on to the next approval, answered here.
        _ = try await terminal.read(until: "Done? y = yes")
        try terminal.write("n\n")
        _ = try await terminal.read(until: "Why can it not be done?")
        try terminal.write("no backup exists\n")
        _ = try await terminal.read(until: "DRILL ")
        let given = try #require(try entries(runs, try lastRun(runs)).first { $0["type"] as? String == "approval-given" })
        #expect((given["by"] as? String ?? "").hasSuffix("via drctl approve") && given["reason"] as? String == "from the bridge call")
    }

    @Test("four eyes: the person who started the run cannot approve it, at the prompt or with drctl approve; nor can someone not among approvers")
    func fourEyes() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-four-eyes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let runbook = try CLI.temporaryFile("four-eyes.yaml", """
        runbook: four-eyes
        steps:
          - id: second-person
            approval: { prompt: "Go?", distinct_from_operator: true }
          - id: named
            needs: [second-person]
            approval: { prompt: "Really?", approvers: [alice-dr-lead] }
        """)
        let inventory = try CLI.temporaryFile("site.yaml", "hosts:\n  - { name: esxi-01, address: 127.0.0.1, port: 1, auth: prompt }\n")
        let terminal = try PseudoTerminal.spawn(CLI.binary, ["run", runbook, "--inventory", inventory, "--runs-dir", runs])
        defer { terminal.close() }
        let prompt = try await terminal.read(until: "Approve? y = yes")
        #expect(prompt.contains("You cannot approve this here") && prompt.contains("distinct_from_operator"), "\(prompt)")
        try terminal.write("y\n")
        _ = try await terminal.read(until: "You cannot approve this here")
        let mine = try await CLI.run(["approve", try lastRun(runs), "second-person", "--runs-dir", runs])
        #expect(mine.status == 2 && mine.stderr.contains("started this run"), "\(mine.stderr)")
        let notListed = try await CLI.run(["approve", try lastRun(runs), "named", "--runs-dir", runs])
        #expect(notListed.status == 2 && notListed.stderr.contains("not among its approvers (alice-dr-lead)"), "\(notListed.stderr)")
        // Denying is always allowed.
        try terminal.write("n\n")
        _ = try await terminal.read(until: "Why deny?")
        try terminal.write("no second person on call\n")
        #expect(await terminal.waitForExit() == 1)
    }
}

@Suite("runs directory and live runs")
struct LiveRunTests {
    @Test("DRCTL_RUNS_DIR sets where runs go; a run waiting at a prompt is listed as running with its pid; run ids carry 32 random bits")
    func liveRun() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-live-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let terminal = try PseudoTerminal.spawn(CLI.binary, ApprovalPromptTests.drill, environment: ["DRCTL_RUNS_DIR": runs])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.first)
        #expect(run.range(of: #"^\d{8}-\d{6}-[0-9a-f]{8}$"#, options: .regularExpression) != nil, "\(run)")
        let listing = try await CLI.run(["runs", "--runs-dir", runs])
        #expect(listing.stdout.contains("running (pid \(terminal.process.processIdentifier))"), "\(listing.stdout)")
        kill(terminal.process.processIdentifier, SIGKILL)
        terminal.process.waitUntilExit()
        let after = try await CLI.run(["runs", "--runs-dir", runs])
        #expect(after.stdout.contains("unfinished") && !after.stdout.contains("running (pid"), "\(after.stdout)")
    }
}

@Suite("approval timeouts")
struct ApprovalTimeoutTests {
    @Test("nobody answers within timeout: deny, continue or abort as on_timeout says; the question on screen closes; drctl is recorded as deciding, with why",
          arguments: ["deny", "continue", "abort"])
    func onTimeout(_ action: String) async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-timeout-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let runbook = try CLI.temporaryFile("timeout.yaml", """
        runbook: timeouts
        steps:
          - id: gate
            approval: { prompt: "Go?", timeout: 1s, on_timeout: \(action) }
          - id: after
            needs: [gate]
            approval: "Then?"
        """)
        let inventory = try CLI.temporaryFile("site.yaml", "hosts:\n  - { name: esxi-01, address: 127.0.0.1, port: 1, auth: prompt }\n")
        let terminal = try PseudoTerminal.spawn(CLI.binary, ["run", runbook, "--inventory", inventory, "--runs-dir", runs, "--approve", "after"])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        // Nobody answers.
        let status = await terminal.waitForExit()
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.first)
        let entries = try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let decided = try #require(entries.first { ["approval-given", "approval-denied"].contains($0["type"] as? String ?? "") && $0["step"] as? String == "gate" })
        #expect(decided["by"] as? String == "drctl")
        #expect(decided["reason"] as? String == "no decision within 1s (on_timeout: \(action))")
        let outcome = entries.last?["outcome"] as? String
        let afterRan = entries.contains { $0["type"] as? String == "approval-given" && $0["step"] as? String == "after" }
        switch action {
        case "continue": #expect(status == 0 && outcome == "succeeded" && afterRan)
        default: #expect(status == 1 && outcome == "failed" && !afterRan, "\(action): \(status) \(outcome ?? "?")")
        }
    }
}
