import Foundation
import Journal
import Testing

/// `transcript show`: what happened, in order, including what a crash and a resume leave behind.
@Suite("transcript timeline")
struct TimelineTests {
    static func journal(_ lines: [String]) throws -> RecordedJournal {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-timeline-\(UUID().uuidString.prefix(8))")
        let directory = runs.appendingPathComponent("r1")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("journal.jsonl"), atomically: true, encoding: .utf8)
        return try #require(RecordedJournal.load(run: "r1", in: runs.path))
    }

    @Test("a command sent with no result is shown in flight at the crash; the resume, its settlement, probes and wait checks are shown")
    func crashAndResume() throws {
        let timeline = try Self.journal([
            #"{"type":"run-started","run":"r1","runbook":"rb","operator":"alice","machine":"m1","time":"2026-12-01T10:00:00.000Z"}"#,
            #"{"type":"probed","step":"ssh-down","item":"","index":0,"target":"ssh probe of esxi-01:22, expect down","state":"down","detail":"connection refused","time":"2026-12-01T10:00:00.100Z"}"#,
            #"{"type":"wait-checked","step":"lun","item":"","index":0,"host":"esxi-02","check":1,"holds":false,"detail":"the last check gave state=unmounted","deadline":"2026-12-01T10:15:00.000Z","time":"2026-12-01T10:00:01.000Z"}"#,
            #"{"type":"command-sent","step":"register","item":"app-01","index":0,"host":"esxi-02","command":"vim-cmd solo/registervm /a.vmx","mutates":true,"time":"2026-12-01T10:00:02.000Z"}"#,
            #"{"type":"command-finished","step":"register","item":"app-01","index":0,"host":"esxi-02","command":"vim-cmd solo/registervm /a.vmx","exit_status":0,"duration_ms":20,"stdout":"7\n","time":"2026-12-01T10:00:02.020Z"}"#,
            #"{"type":"command-sent","step":"register","item":"db-01","index":1,"host":"esxi-03","command":"vim-cmd solo/registervm /d.vmx","mutates":true,"time":"2026-12-01T10:00:02.030Z"}"#,
            #"{"type":"run-resumed","run":"r1","runbook":"rb","restored_items":1,"in_flight":["register [db-01]"],"operator":"bob","machine":"m2","time":"2026-12-01T10:05:00.000Z"}"#,
            #"{"type":"in-flight-settled","step":"register","item":"db-01","index":1,"host":"esxi-03","detail":"its verify check shows the change happened: not sent again","time":"2026-12-01T10:05:00.100Z"}"#,
            #"{"type":"run-paused","reason":"interrupted","resume_with":"drctl resume r1","time":"2026-12-01T10:06:00.000Z"}"#,
            #"{"type":"drill-verdict","verdict":"passed","summary":"DRILL PASSED: 1 of 1 checks hold.","checks":[{"expectation":"vm db-01 powered on","passed":true,"detail":"powered on, on esxi-03"}],"faults":["host esxi-03 is down"],"time":"2026-12-01T10:07:00.000Z"}"#,
        ]).timeline()
        let lines = timeline.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("ssh-down: ssh probe of esxi-01:22, expect down: down (connection refused)") }, "\(timeline)")
        #expect(lines.contains { $0.contains("lun on esxi-02: check 1 not yet: the last check gave state=unmounted (deadline 10:15:00.000)") }, "\(timeline)")
        #expect(lines.contains { $0.contains("register [app-01] on esxi-02: $ vim-cmd solo/registervm /a.vmx  -> exit 0") })
        #expect(lines.contains { $0.contains("register [db-01] on esxi-03: $ vim-cmd solo/registervm /d.vmx  -> sent, no result recorded: in flight when the run stopped") },
                "\(timeline)")
        #expect(lines.contains { $0.contains("run resumed by bob on m2: 1 finished item(s) kept; in flight when it stopped: register [db-01]") })
        #expect(lines.contains { $0.contains("register [db-01] on esxi-03: was in flight when the run stopped: its verify check shows the change happened") })
        #expect(lines.contains { $0.contains("run paused (interrupted): drctl resume r1 goes on") })
        #expect(lines.firstIndex { $0.contains("sent, no result") }! < lines.firstIndex { $0.contains("run resumed") }!)
        #expect(lines.contains { $0.contains("drill verdict: DRILL PASSED: 1 of 1 checks hold.") })
        #expect(lines.contains { $0.contains("✓ vm db-01 powered on: powered on, on esxi-03") })
        #expect(lines.contains { $0.contains("faults in force: host esxi-03 is down") })
    }
}
