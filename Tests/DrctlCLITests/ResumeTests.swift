import Foundation
import Testing

/// `drctl resume` after a drill killed with SIGKILL at chosen points.
@Suite("resume after a kill")
struct ResumeTests {
    static let hostFailure = CrashHarness.drills[0]

    /// A kill right after each kind of journal event (and right after a host applied a change
    /// drctl never heard back about), plus torn writes.
    static let killPoints = [
        "run-started:1", "step-dispatched:12", "command-sent:1", "command-sent:40", "command-finished:30", "step-finished:15",
        "approval-asked:1", "approval-given:1", "host-change:1", "host-change:6", "host-change:9", "in-flight-settled:1",
        "command-sent:45:torn", "step-finished:20:torn", "approval-given:1:torn",
    ]

    @Test("killed right after each kind of event, the resumed drill passes and repeats no change", arguments: killPoints)
    func killAtEvent(_ point: String) async throws {
        let reference = try await CrashHarness.reference(Self.hostFailure)
        let harness = CrashHarness()
        // The in-flight point needs a resume to die in: kill at a change first, then in the resume.
        let first = point.hasPrefix("in-flight-settled") ? "host-change:6" : point
        #expect(try await harness.start(Self.hostFailure, failpoint: first) == .killed, "the failpoint \(first) was not reached")
        if point.hasPrefix("in-flight-settled") {
            let resumed = try await CrashHarness.spawn(["resume", harness.runID!, "--runs-dir", harness.runsDirectory, "--auto-approve"],
                                                       environment: ["DRCTL_FAILPOINT": point])
            #expect(resumed == .killed)
        }
        let result = try await harness.resume()
        #expect(result.status == 0, "\(point): \(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("DRILL PASSED: 6 of 6 checks hold."), "\(point)")
        #expect(CrashHarness.repeated(harness.changeLog, reference: reference).isEmpty, "\(point): \(harness.changeLog)")
        if point.hasSuffix(":torn") {
            #expect(result.stdout.contains("The journal's last line was cut off when the run died"), "\(point): \(result.stdout)")
        }
        let verify = try await CLI.run(["transcript", "verify", harness.runID!, "--runs-dir", harness.runsDirectory])
        #expect(verify.status == 0, "\(point): \(verify.stdout)\(verify.stderr)")
        #expect(harness.journalTypes.filter { $0 == "run-resumed" }.count >= 1)
        #expect(Array(harness.journalTypes.suffix(2)) == ["run-ended", "drill-verdict"], "a drill's record ends with the run's end and the drill's verdict")
    }

    @Test("a change that reached the host before the kill is recognised by its verify check and not sent again")
    func reconciledThroughVerify() async throws {
        let harness = CrashHarness()
        // The first change is a registration: the host applied it, the journal never heard back.
        #expect(try await harness.start(Self.hostFailure, failpoint: "host-change:1") == .killed)
        let registered = harness.changeLog
        #expect(registered.count == 1 && registered[0].contains("registervm"), "\(registered)")
        let result = try await harness.resume()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("in flight when it stopped: register"))
        #expect(result.stdout.contains("approve-recovery: approved by"), "the approval given before the kill still stands and is named")
        #expect(harness.journalText.contains("its verify check shows the change happened: not sent again"))
        #expect(harness.changeLog.filter { $0 == registered[0] }.count == 1)
    }

    @Test("an in-flight step without a verify check stops a non-interactive resume with a clear message")
    func inFlightWithoutVerify() async throws {
        let runbook = try CLI.temporaryFile("restart.yaml", """
        runbook: restart-hostd
        steps:
          - id: restart
            on: esxi-02
            run: /etc/init.d/hostd restart
          - id: after
            needs: [restart]
            on: esxi-02
            mutates: false
            run: /etc/init.d/hostd status
        """)
        let harness = CrashHarness()
        let drill = CrashHarness.Drill(name: "restart", arguments: [runbook, "--scenario", "Simulator/host-failure.yaml"])
        #expect(try await harness.start(drill, failpoint: "host-change:1") == .killed)
        let result = try await harness.resume()
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("has no verify check"), "\(result.stdout)")
        #expect(result.stdout.contains("drctl resume \(harness.runID!)"))
        #expect(harness.changeLog == ["esxi-02: hostd restart"], "the restart is never sent again without an answer")
    }

    @Test("resume refuses a runbook changed since the run started, unless allowed")
    func changedRunbook() async throws {
        let source = try String(contentsOfFile: CLI.root.appendingPathComponent("Runbooks/host-failure.yaml").path, encoding: .utf8)
        let copy = try CLI.temporaryFile("host-failure.yaml", source)
        let harness = CrashHarness()
        #expect(try await harness.start(Self.hostFailure, failpoint: "host-change:2", runbook: copy) == .killed)
        try (source + "\n# edited after the crash\n").write(toFile: copy, atomically: true, encoding: .utf8)
        let journalBefore = harness.journalText
        let refused = try await harness.resume()
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("the runbook changed since run"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--allow-changed-runbook"))
        #expect(harness.journalText == journalBefore, "a refused resume writes nothing")
        let allowed = try await harness.resume(["--auto-approve", "--allow-changed-runbook"])
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        #expect(harness.journalText.contains("\"changed_runbook_allowed\":\"true\""))
    }

    @Test("a run still going in another process is not resumed alongside it")
    func stillRunning() async throws {
        let harness = CrashHarness()
        // The drill waits at its approval prompt, on a terminal, for as long as the test needs.
        let terminal = try PseudoTerminal.spawn(CLI.binary, ["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml",
                                                             "--param", "failed_host=esxi-01", "--runs-dir", harness.runsDirectory])
        defer { terminal.close() }
        _ = try await terminal.read(until: "Approve? y = yes")
        let refused = try await harness.resume()
        let wasRunning = terminal.process.isRunning
        kill(terminal.process.processIdentifier, SIGKILL)
        terminal.process.waitUntilExit()
        #expect(wasRunning, "the drill was still waiting while resume was tried")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("is still in progress in another drctl process (pid"), "\(refused.stderr)")
        let resumed = try await harness.resume()
        #expect(resumed.status == 0, "once it is gone, the run resumes: \(resumed.stdout)\(resumed.stderr)")
    }

    @Test("resume names what is wrong: unknown run, dry-run, finished run, edited journal")
    func refusals() async throws {
        let harness = CrashHarness()
        let unknown = try await CLI.run(["resume", "no-such-run", "--runs-dir", harness.runsDirectory])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no run no-such-run"))

        #expect(try await harness.start(Self.hostFailure) == .exited(0))
        let finished = try await harness.resume()
        #expect(finished.status == 0)
        #expect(finished.stdout.contains("already ended handed off"))

        let edited = CrashHarness()
        #expect(try await edited.start(Self.hostFailure, failpoint: "step-finished:5") == .killed)
        let path = "\(edited.runsDirectory)/\(edited.runID!)/journal.jsonl"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"esxi-02\"", with: "\"esxi-09\"").write(toFile: path, atomically: true, encoding: .utf8)
        let tampered = try await edited.resume()
        #expect(tampered.status == 2)
        #expect(tampered.stderr.contains("the hash chain breaks here"), "\(tampered.stderr)")
    }
}
