import DrctlCore
import Foundation
import Testing

/// The approval prompt as the operator meets it: under a pseudo-terminal, answering as a person
/// would, with the journal checked for what was recorded.
@Suite("approval prompt", .serialized)
struct ApprovalPromptTests {
    static let drill = ["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml", "--param", "failed_host=esxi-01"]

    func journal(in runs: String) throws -> [[String: Any]] {
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.sorted().last)
        let text = try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func temporaryRuns() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("drctl-prompt-\(UUID().uuidString)").path
    }

    @Test("y approves, n denies and asks why, ? explains, anything else asks again; the approver is the OS account, never $USER")
    func answers() async throws {
        let runs = temporaryRuns()
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let terminal = try PseudoTerminal.spawn(CLI.binary, Self.drill + ["--runs-dir", runs], environment: ["USER": "mallory", "LOGNAME": "mallory"])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        try terminal.write("maybe\n")
        _ = try await terminal.read(until: "Please answer y, n or d")
        try terminal.write("?\n")
        _ = try await terminal.read(until: "stop the run here without deciding")
        _ = try await terminal.read(until: "Approve? y = yes")
        try terminal.write("d\n")
        let details = try await terminal.read(until: "Approve? y = yes")
        #expect(details.contains("Commands this approval unlocks, per host") && details.contains("vim-cmd solo/registervm"), "\(details)")
        try terminal.write("y\n")
        _ = try await terminal.read(until: "Reason (optional")
        try terminal.write("checked the zoning\n")
        // The restore of scratch-01 (local disk), a manual step, is asked next as "done?": not done, and
        // an empty reason is not taken.
        _ = try await terminal.read(until: "Done? y = yes")
        try terminal.write("n\n")
        _ = try await terminal.read(until: "Why can it not be done?")
        try terminal.write("\n")
        _ = try await terminal.read(until: "Why can it not be done?")
        try terminal.write("no backup of scratch-01 exists\n")
        // Answering n was right (there is no backup): the drill judges the runbook, not that decision.
        let verdict = try await terminal.read(until: "Run partial.")
        #expect(verdict.contains("DRILL STOPPED BY A DECISION: \(OperatorIdentity.current.description) denied restore-from-backup (no backup of scratch-01 exists)."))
        #expect(verdict.contains("every step before it went as a correct runbook's must (none failed)"))
        #expect(!verdict.contains("DRILL FAILED") && !verdict.contains("a correct runbook ends"))
        #expect(await terminal.waitForExit() == 4, "the run's own exit code: partial")
        let entries = try journal(in: runs)
        let account = OperatorIdentity.current.description
        let given = try #require(entries.first { $0["type"] as? String == "approval-given" })
        #expect(given["by"] as? String == account && given["reason"] as? String == "checked the zoning")
        let denied = try #require(entries.first { $0["type"] as? String == "approval-denied" })
        #expect(denied["by"] as? String == account && denied["reason"] as? String == "no backup of scratch-01 exists")
        #expect(entries.first?["operator"] as? String == account)
        #expect(entries.last?["verdict"] as? String == "stopped-by-decision")
        #expect(!entries.contains { ($0["by"] as? String ?? $0["operator"] as? String ?? "").contains("mallory") })
        // The evidence is on record: what was shown and what the approval unlocked, in the journal,
        // in transcript show and in the report.
        let asked = try #require(entries.first { $0["type"] as? String == "approval-asked" })
        #expect(!((asked["shown"] as? [String]) ?? []).isEmpty)
        #expect(((asked["unlocks"] as? [String]) ?? []).contains { $0.contains("vim-cmd solo/registervm") })
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.sorted().last)
        let shown = try await CLI.run(["transcript", "show", run, "--runs-dir", runs])
        #expect(shown.stdout.contains("unlocks:") && shown.stdout.contains("shown: "), "\(shown.stdout)")
        let report = try await CLI.run(["report", run, "--runs-dir", runs])
        #expect(report.stdout.contains("saw before deciding") && report.stdout.contains("vim-cmd solo/registervm"), "\(report.stdout)")
    }

    @Test("Ctrl-C, end of input or SIGTERM at the prompt stops the run at once (exit 130, 143 for SIGTERM) with no decision recorded; resume asks again",
          arguments: ["ctrl-c", "end of input", "sigterm"])
    func interrupted(_ how: String) async throws {
        let runs = temporaryRuns()
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let terminal = try PseudoTerminal.spawn(CLI.binary, Self.drill + ["--runs-dir", runs])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        switch how {
        case "ctrl-c": kill(terminal.process.processIdentifier, SIGINT)
        case "sigterm": kill(terminal.process.processIdentifier, SIGTERM)
        default: try terminal.write("\u{04}")
        }
        #expect(await terminal.waitForExit() == (how == "sigterm" ? 143 : 130))
        let entries = try journal(in: runs)
        #expect(!entries.contains { ["approval-given", "approval-denied", "approval-unanswered"].contains($0["type"] as? String ?? "") })
        #expect(entries.contains { $0["type"] as? String == "approval-interrupted" })
        #expect(entries.last?["outcome"] as? String == "interrupted")
        // Resumed, the same approval is asked again and the drill goes on from there.
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.sorted().last)
        let resumed = try await CLI.run(["resume", run, "--runs-dir", runs, "--auto-approve"])
        #expect([0, 5].contains(resumed.status), "\(resumed.stdout)\(resumed.stderr)")
        #expect(try journal(in: runs).contains { $0["type"] as? String == "approval-given" })
    }
}

@Suite("approving in advance")
struct AdvanceApprovalTests {
    @Test("--auto-approve is refused on a real run (exit 2, suggesting --approve STEP); --approve grants that step, recorded as such with the account and --operator beside it")
    func approveInAdvance() async throws {
        let (arguments, runs) = try LeaseTests.gateRun()
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let refused = try await CLI.run(arguments + ["--auto-approve"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--auto-approve is for drills") && refused.stderr.contains("--approve ok"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: runs), "nothing half-written")
        let typo = try await CLI.run(arguments + ["--approve", "okk"])
        #expect(typo.status == 2 && typo.stderr.contains("has no approval step 'okk'") && typo.stderr.contains("did you mean 'ok'"), "\(typo.stderr)")

        let approved = try await CLI.run(arguments + ["--approve", "ok", "--operator", "Jane Doe (DR lead)", "--ignore-leases"])
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0 != "leases" }.sorted().last)
        let entries = try String(contentsOfFile: "\(runs)/\(run)/journal.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let started = try #require(entries.first)
        #expect(started["flags"] as? [String] == ["--approve ok", "--ignore-leases"])
        #expect(started["operator_given_name"] as? String == "Jane Doe (DR lead)")
        #expect(started["operator"] as? String == OperatorIdentity.current.description)
        let given = try #require(entries.first { $0["type"] as? String == "approval-given" })
        #expect(given["reason"] as? String == "pre-approved with --approve ok" && given["by"] as? String == OperatorIdentity.current.description)
    }
}

@Suite("signals drctl inherits")
struct InheritedSignalTests {
    @Test("started with SIGINT blocked or ignored by its parent (a supervisor, a test runner), drctl still takes Ctrl-C", arguments: ["blocked", "ignored"])
    func inheritedSignalState(_ state: String) async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-signals-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        // perl-base is part of every Debian system: it sets the state, then becomes drctl (exec keeps the pid).
        let setup = state == "blocked" ? "use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGINT));" : "$SIG{INT} = 'IGNORE';"
        let terminal = try PseudoTerminal.spawn("/usr/bin/perl", ["-e", setup + " exec @ARGV or die", CLI.binary] + ApprovalPromptTests.drill + ["--runs-dir", runs])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        kill(terminal.process.processIdentifier, SIGINT)
        #expect(await terminal.waitForExit() == 130)
    }
}
