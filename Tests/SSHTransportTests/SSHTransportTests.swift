import Engine
import Foundation
import RunbookFormat
import Journal
import Simulator
@testable import SSHTransport
import Testing

/// The SSH transport against a real OpenSSH sshd on 127.0.0.1.
@Suite("SSH transport against a real sshd", .serialized, .enabled(if: SSHD.isRoot, "needs root to add a test user and a PAM service"))
struct SSHTransportTests {
    func host(_ sshd: SSHD, auth: Inventory.Authentication? = nil, pinned: String? = nil, port: Int? = nil) -> Inventory.Host {
        Inventory.Host(name: "esxi-test", address: "127.0.0.1", port: port ?? sshd.port, user: SSHD.user,
                       auth: auth ?? .keyFile(path: sshd.clientKey, passphraseEnvironment: nil), hostKey: pinned)
    }

    func transport(_ sshd: SSHD, knownHosts: String? = nil, acceptNew: Bool = false, timeouts: SSHTimeouts = SSHTimeouts(),
                   events: EventRecorder = EventRecorder()) throws -> SSHTransport {
        let settings = SSHTransport.Settings(knownHostsPath: try knownHosts ?? sshd.knownHosts(), acceptNewHostKeys: acceptNew, timeouts: timeouts)
        return SSHTransport(inventory: Inventory(), settings: settings, report: { host, message in events.add("\(host): \(message)") })
    }

    @Test("publickey with an ed25519 key; the fingerprint used is reported")
    func publicKey() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let events = EventRecorder()
        let ssh = try transport(sshd, events: events)
        let result = try await ssh.execute("echo hello; echo oops >&2; exit 3", on: host(sshd), timeout: .seconds(10))
        #expect(result.stdout == "hello\n" && result.stderr == "oops\n" && result.exitStatus == 3)
        #expect(events.all.contains { $0.contains(sshd.hostKeyFingerprint) && $0.contains("known_hosts") && $0.contains("publickey") })
    }

    @Test("publickey with an ECDSA key protected by a passphrase from the environment")
    func encryptedKey() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        setenv("DRCTL_TEST_PASSPHRASE", "key-passphrase", 1)
        let ssh = try transport(sshd)
        let result = try await ssh.execute("id -un", on: host(sshd, auth: .keyFile(path: sshd.encryptedClientKey, passphraseEnvironment: "DRCTL_TEST_PASSPHRASE")), timeout: .seconds(10))
        #expect(result.stdout == "\(SSHD.user)\n")
    }

    @Test("password authentication, from an environment variable")
    func password() async throws {
        let sshd = try await SSHD.launch(SSHD.Options(authentication: .passwords))
        defer { sshd.stop() }
        setenv("DRCTL_TEST_PASSWORD", SSHD.password, 1)
        let info = try await transport(sshd).check(host(sshd, auth: .passwordEnvironment("DRCTL_TEST_PASSWORD")))
        #expect(info.authMethod == "password")
    }

    @Test("keyboard-interactive when the server offers no password method, as ESXi; the password from a file")
    func keyboardInteractive() async throws {
        let sshd = try await SSHD.launch(SSHD.Options(authentication: .keyboardInteractiveOnly))
        defer { sshd.stop() }
        let file = sshd.directory.appendingPathComponent("password").path
        try "\(SSHD.password)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let ssh = try transport(sshd)
        let info = try await ssh.check(host(sshd, auth: .passwordFile(file)))
        #expect(info.authMethod == "keyboard-interactive")
        #expect(info.offeredMethods.contains("keyboard-interactive") && !info.offeredMethods.contains("password"))
    }

    @Test("a wrong password is refused, naming the methods offered, never the password")
    func wrongPassword() async throws {
        let sshd = try await SSHD.launch(SSHD.Options(authentication: .keyboardInteractiveOnly))
        defer { sshd.stop() }
        setenv("DRCTL_TEST_WRONG", "not-the-password", 1)
        do {
            _ = try await transport(sshd).execute("true", on: host(sshd, auth: .passwordEnvironment("DRCTL_TEST_WRONG")), timeout: .seconds(10))
            Issue.record("a wrong password was accepted")
        } catch let error as TransportError {
            #expect(error.kind == .authenticationFailed)
            #expect(error.detail.contains("publickey,keyboard-interactive"))
            #expect(!"\(error)".contains("not-the-password"))
        }
    }

    @Test("a server asking \"Verification code: \" (a second factor, through PAM) gets no password; the failure quotes the prompt")
    func verificationCodePrompt() async throws {
        let sshd = try await SSHD.launch(SSHD.Options(authentication: .oneTimeCode))
        defer { sshd.stop() }
        // Were the password sent as the code, this one would pass: it is never sent.
        setenv("DRCTL_TEST_CODE_PASSWORD", "123456", 1)
        do {
            _ = try await transport(sshd).execute("true", on: host(sshd, auth: .passwordEnvironment("DRCTL_TEST_CODE_PASSWORD")), timeout: .seconds(10))
            Issue.record("a one-time-code prompt was answered with the password")
        } catch let error as TransportError {
            #expect(error.kind == .authenticationFailed)
            #expect(error.detail.contains("the server asked \"Verification code: \", which is not a password prompt"), "\(error)")
            #expect(!"\(error)".contains("123456"))
        }
    }

    @Test("an unknown host key is refused with its fingerprint; accept-new records it; a mismatch is always refused")
    func hostKeys() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let empty = sshd.directory.appendingPathComponent("empty_known_hosts").path
        do {
            _ = try await transport(sshd, knownHosts: empty).execute("true", on: host(sshd), timeout: .seconds(10))
            Issue.record("an unknown host was accepted")
        } catch let error as TransportError {
            #expect(error.kind == .hostKeyUnknown)
            #expect(error.detail.contains(sshd.hostKeyFingerprint) && error.hint.contains("--accept-new-host-keys"))
        }
        let events = EventRecorder()
        _ = try await transport(sshd, knownHosts: empty, acceptNew: true, events: events).execute("true", on: host(sshd), timeout: .seconds(10))
        #expect(try String(contentsOfFile: empty, encoding: .utf8).contains("[127.0.0.1]:\(sshd.port)"))
        #expect(events.all.contains { $0.contains("accepted and recorded") })
        _ = try await transport(sshd, knownHosts: empty).execute("true", on: host(sshd), timeout: .seconds(10))

        let other = try await SSHD.launch()
        defer { other.stop() }
        // The first server's recorded key, presented at the second server's port.
        let forged = sshd.directory.appendingPathComponent("forged_known_hosts").path
        try String(contentsOfFile: empty, encoding: .utf8).replacingOccurrences(of: ":\(sshd.port)", with: ":\(other.port)").write(toFile: forged, atomically: true, encoding: .utf8)
        do {
            _ = try await transport(other, knownHosts: forged, acceptNew: true).execute("true", on: host(other), timeout: .seconds(10))
            Issue.record("a mismatched host key was accepted")
        } catch let error as TransportError {
            #expect(error.kind == .hostKeyMismatch && error.detail.hasPrefix("WARNING"))
        }
        do {
            _ = try await transport(other).execute("true", on: host(other, pinned: sshd.hostKeyFingerprint), timeout: .seconds(10))
            Issue.record("a host key differing from the pinned one was accepted")
        } catch let error as TransportError {
            #expect(error.kind == .hostKeyMismatch)
        }
        let pinned = try await transport(other, knownHosts: empty).execute("echo pinned", on: host(other, pinned: other.hostKeyFingerprint), timeout: .seconds(10))
        #expect(pinned.stdout == "pinned\n")
    }

    @Test("a closed port is refused; a host that never speaks times out; probes say which")
    func refusedAndHung() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let closed = LocalSSHD.freePort()
        do {
            _ = try await transport(sshd).execute("true", on: host(sshd, port: closed), timeout: .seconds(5))
            Issue.record("a closed port answered")
        } catch let error as TransportError {
            #expect(error.kind == .refused)
        }
        let silent = try SilentListener()
        defer { silent.stop() }
        let clock = ContinuousClock.now
        do {
            _ = try await transport(sshd, timeouts: SSHTimeouts(connect: .seconds(2), handshake: .seconds(1))).execute("true", on: host(sshd, port: silent.port), timeout: .seconds(5))
            Issue.record("a silent host answered")
        } catch let error as TransportError {
            #expect(error.kind == .timedOut && error.detail.contains("no SSH handshake"))
        }
        #expect(ContinuousClock.now - clock < .seconds(4))
        let ssh = try transport(sshd)
        #expect(await ssh.probe(ProbeRequest(method: .ssh, host: nil, address: "127.0.0.1", port: sshd.port, timeout: .seconds(2))).state == .up)
        #expect(await ssh.probe(ProbeRequest(method: .ssh, host: nil, address: "127.0.0.1", port: silent.port, timeout: .milliseconds(300))).state == .down)
        #expect(await ssh.probe(ProbeRequest(method: .tcp, host: nil, address: "127.0.0.1", port: silent.port, timeout: .seconds(1))).state == .up)
        #expect(await ssh.probe(ProbeRequest(method: .tcp, host: nil, address: "127.0.0.1", port: closed, timeout: .seconds(1))).state == .down)
    }

    @Test("a session dropped mid-command fails that command, and the next one reconnects and says so")
    func droppedSession() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let events = EventRecorder()
        let ssh = try transport(sshd, events: events)
        let target = host(sshd)
        _ = try await ssh.execute("true", on: target, timeout: .seconds(10))
        async let long = ssh.execute("sleep 10", on: target, timeout: .seconds(20))
        try await Task.sleep(for: .milliseconds(500))
        try sshd.killSessions()
        do {
            _ = try await long
            Issue.record("the command survived its session")
        } catch let error as TransportError {
            #expect(error.kind == .sessionDropped)
        }
        let again = try await ssh.execute("echo back", on: target, timeout: .seconds(10))
        #expect(again.stdout == "back\n")
        #expect(events.all.contains { $0.contains("session dropped") })
        #expect(events.all.contains { $0.contains("reconnected") })
    }

    @Test("10 MB interleaved on stdout and stderr arrive whole, without deadlock")
    func largeInterleavedOutput() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let command = "i=0; while [ $i -lt 80 ]; do head -c 65536 /dev/zero | tr '\\000' o; head -c 65536 /dev/zero | tr '\\000' e >&2; i=$((i+1)); done"
        let result = try await transport(sshd).execute(command, on: host(sshd), timeout: .seconds(60))
        #expect(result.stdout.utf8.count == 80 * 65536)
        #expect(result.stderr.utf8.count == 80 * 65536)
        #expect(result.stdout.allSatisfy { $0 == "o" } && result.stderr.allSatisfy { $0 == "e" })
    }

    @Test("exit codes and exit signals")
    func exitCodesAndSignals() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let ssh = try transport(sshd)
        #expect(try await ssh.execute("exit 42", on: host(sshd), timeout: .seconds(10)).exitStatus == 42)
        #expect(try await ssh.execute("no-such-command-here", on: host(sshd), timeout: .seconds(10)).exitStatus == 127)
        let killed = try await ssh.execute("kill -TERM $$", on: host(sshd), timeout: .seconds(10))
        #expect(killed.exitSignal == "TERM")
    }

    @Test("a command past its timeout is answered as timed out")
    func commandTimeout() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let ssh = try transport(sshd)
        do {
            _ = try await ssh.execute("sleep 5", on: host(sshd), timeout: .milliseconds(300))
            Issue.record("the command did not time out")
        } catch let error as TransportError {
            #expect(error.kind == .commandTimedOut)
        }
        #expect(try await ssh.execute("echo still", on: host(sshd), timeout: .seconds(5)).stdout == "still\n")
    }

    @Test("a command drctl gave up on is stopped on the host (TERM to its process group), not left to make its change")
    func timedOutCommandIsStopped() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let ssh = try transport(sshd)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-stop-\(UUID().uuidString.prefix(8))").path
        do {
            _ = try await ssh.execute("sleep 3 && touch \(file)", on: host(sshd), timeout: .milliseconds(300))
            Issue.record("the command did not time out")
        } catch let error as TransportError {
            #expect(error.kind == .commandTimedOut)
            #expect(error.hint.contains("TERM"))
        }
        // Later commands work as before, their stderr untouched; the stopped one never makes its change.
        let later = try await ssh.execute("sleep 4; echo done; echo warn >&2; exit 3", on: host(sshd), timeout: .seconds(10))
        #expect(later.stdout == "done\n" && later.stderr == "warn\n" && later.exitStatus == 3)
        #expect(!FileManager.default.fileExists(atPath: file), "the timed-out command went on and made its change")
    }

    @Test("50 concurrent commands share one session")
    func concurrentCommands() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let ssh = try transport(sshd)
        let target = host(sshd)
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<50 { group.addTask { try await ssh.execute("sleep 0.2; echo \(index)", on: target, timeout: .seconds(30)).stdout } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(outputs) == Set((0..<50).map { "\($0)\n" }))
        #expect(ssh.sessionCount == 1)
        #expect(sshd.log.components(separatedBy: "Accepted publickey").count - 1 == 1, "one login for fifty commands")
    }
}

/// Collects connection events from the transport.
final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [String] = []
    func add(_ event: String) { lock.withLock { events.append(event) } }
    var all: [String] { lock.withLock { events } }
}

@Suite("secrets stay secret", .serialized, .enabled(if: SSHD.isRoot, "needs root to add a test user and a PAM service"))
struct SecretTests {
    @Test("a password from the environment never shows in any process's argv, in errors, in events, or in the run directory")
    func passwordNotInProcessList() async throws {
        let sshd = try await SSHD.launch(SSHD.Options(authentication: .keyboardInteractiveOnly))
        defer { sshd.stop() }
        setenv("DRCTL_SECRET_PASSWORD", SSHD.password, 1)
        let events = EventRecorder()
        let ssh = SSHTransport(inventory: Inventory(), settings: .init(knownHostsPath: try sshd.knownHosts()), report: { events.add("\($0): \($1)") })
        let host = Inventory.Host(name: "esxi-test", address: "127.0.0.1", port: sshd.port, user: SSHD.user, auth: .passwordEnvironment("DRCTL_SECRET_PASSWORD"))
        async let running = ssh.execute("sleep 1; echo done", on: host, timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(400))
        let processes = try await SSHD.run("ps -eo args")
        #expect(try await running.stdout == "done\n")
        #expect(!processes.contains(SSHD.password))
        #expect(!events.all.joined().contains(SSHD.password))
        // A whole run over SSH, journal included: the password is nowhere in its directory.
        let runbook = try RunbookLoader.load(text: "runbook: secret\nsteps:\n  - { id: hello, on: esxi-test, run: 'echo hello; id -un' }\n", file: "secret.yaml")
        let run = try RunDirectory.create(id: "secret-\(UUID().uuidString.prefix(6))", in: sshd.directory.appendingPathComponent("runs").path)
        let journal = try JournalWriter(directory: run)
        let recorded = SSHTransport(inventory: Inventory(hosts: [host]), settings: .init(knownHostsPath: try sshd.knownHosts()),
                                    report: { name, message in Task { await journal.record(.connection(host: name, detail: message)) } })
        let summary = await Engine(runbook: runbook, inventory: Inventory(hosts: [host]), params: [:], transport: recorded, gate: NonInteractiveGate(),
                                   observers: [journal]).run()
        await journal.close()
        #expect(summary.outcome == .succeeded, "\((try? String(contentsOfFile: run.url.path + "/journal.jsonl", encoding: .utf8)) ?? "")")
        let everything = try await SSHD.run("cat \(run.url.path)/journal.jsonl \(run.url.path)/outputs/* 2>/dev/null || true")
        #expect(everything.contains("hello") && !everything.contains(SSHD.password))
        #expect(try await SSHD.run("grep -r -l -F -- '\(SSHD.password)' \(run.url.path) || true").isEmpty)

        setenv("DRCTL_SECRET_PASSWORD", SSHD.password + "-wrong", 1)
        let other = SSHTransport(inventory: Inventory(), settings: .init(knownHostsPath: try sshd.knownHosts()))
        do {
            _ = try await other.execute("true", on: host, timeout: .seconds(10))
        } catch {
            #expect(!"\(error)".contains(SSHD.password))
        }
    }
}
