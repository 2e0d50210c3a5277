import Engine
import Foundation
import RunbookFormat
@testable import SSHTransport
import Testing

/// A host whose sshd stopped answering (SIGSTOP of the processes serving the session): the TCP
/// connection stays up, so only drctl's own probes can tell.
@Suite("dead sessions are noticed", .serialized, .enabled(if: SSHD.isRoot, "needs root to add a test user and a PAM service"))
struct DeadSessionTests {
    let helpers = SSHTransportTests()
    /// Short, so the tests are quick; decisions are taken by the order of events, never by time.
    let timeouts = SSHTimeouts(connect: .seconds(10), handshake: .seconds(20), keepalive: .seconds(2), probe: .seconds(1))

    @Test("the next command after the sshd child is stopped succeeds on a new session; it was never sent on the dead one")
    func nextCommandMovesToNewSession() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let events = EventRecorder()
        let ssh = try helpers.transport(sshd, timeouts: timeouts, events: events)
        let target = helpers.host(sshd)
        _ = try await ssh.execute("true", on: target, timeout: .seconds(10))
        try sshd.stopSessions()
        // Its timeout is far longer than the test: it can only succeed through a new session.
        let result = try await ssh.execute("echo back", on: target, timeout: .seconds(600))
        #expect(result.stdout == "back\n" && result.exitStatus == 0)
        let log = events.all
        let drop = log.firstIndex { $0.contains("session dropped: the host did not answer") && $0.contains("1 command(s) not yet sent move to a new session") }
        let reconnect = log.firstIndex { $0.contains("reconnected") }
        #expect(drop != nil && reconnect != nil && drop! < reconnect!, "\(log)")
    }

    @Test("a command running when the host stops answering fails as dropped (may or may not have taken effect); later commands run")
    func runningCommandFails() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let events = EventRecorder()
        let ssh = try helpers.transport(sshd, timeouts: timeouts, events: events)
        let target = helpers.host(sshd)
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-started-\(UUID().uuidString)").path
        async let long = ssh.execute("touch \(marker); sleep 300", on: target, timeout: .seconds(600))
        defer { try? FileManager.default.removeItem(atPath: marker) }
        try await eventually("the command started") { FileManager.default.fileExists(atPath: marker) }
        try sshd.stopSessions()
        do {
            _ = try await long
            Issue.record("a command on a frozen session succeeded")
        } catch let error as TransportError {
            #expect(error.kind == .sessionDropped)
            #expect("\(error)".contains("may or may not have taken effect"))
            #expect("\(error)".contains("did not answer a probe"))
        }
        let again = try await ssh.execute("echo back", on: target, timeout: .seconds(600))
        #expect(again.stdout == "back\n")
    }

    @Test("a command that times out gets its session probed at once; a frozen session is closed before the next command comes")
    func probedAfterTimeout() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let events = EventRecorder()
        // The keepalive alone would take an hour: only the probe after the timeout can find the session dead.
        let ssh = try helpers.transport(sshd, timeouts: SSHTimeouts(keepalive: .seconds(3600), probe: .seconds(1)), events: events)
        let target = helpers.host(sshd)
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-started-\(UUID().uuidString)").path
        async let long = ssh.execute("touch \(marker); sleep 300", on: target, timeout: .seconds(3))
        defer { try? FileManager.default.removeItem(atPath: marker) }
        try await eventually("the command started") { FileManager.default.fileExists(atPath: marker) }
        try sshd.stopSessions()
        do {
            _ = try await long
            Issue.record("the command outlived its timeout")
        } catch let error as TransportError {
            #expect(error.kind == .commandTimedOut)
        }
        try await eventually("the probe found the session dead") { events.all.contains { $0.contains("session dropped: the host did not answer a probe") } }
        let again = try await ssh.execute("echo back", on: target, timeout: .seconds(600))
        #expect(again.stdout == "back\n")
    }

    @Test("a live session with a long silent command is probed and kept: the command finishes on it")
    func silentCommandKept() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let events = EventRecorder()
        let ssh = try helpers.transport(sshd, timeouts: SSHTimeouts(keepalive: .milliseconds(200), probe: .seconds(5)), events: events)
        let result = try await ssh.execute("sleep 2; echo done", on: helpers.host(sshd), timeout: .seconds(600))
        #expect(result.stdout == "done\n")
        #expect(!events.all.contains { $0.contains("session dropped") })
        #expect(ssh.sessionCount == 1)
    }

    /// Waits for something the test caused; the bound only keeps a broken build from hanging CI.
    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<6000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("never happened: \(what)")
        throw CancellationError()
    }
}
