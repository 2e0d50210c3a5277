import DrctlCore
import CLibSSH2
import Engine
import Foundation
import RunbookFormat

/// One SSH session to one host, reused for every command, one channel per command.
///
/// libssh2 blocks and a session must be used by one thread at a time, so each session owns a
/// thread that runs every libssh2 call for it. Commands queue to that thread, which drives all
/// their channels at once in non-blocking mode and drains stdout and stderr together, so a
/// command that fills one stream never deadlocks the other.
final class SSHSession: @unchecked Sendable {
    let host: Inventory.Host
    private let policy: HostKeyPolicy
    private let timeouts: SSHTimeouts
    private let credential: @Sendable () throws -> Credential
    private let report: @Sendable (String) -> Void
    private let stopsTimedOutCommands: Bool
    private let spooling: OutputSpooling

    private let lock = NSLock()
    private var queued: [Request] = []
    private var started = false
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    /// Set at a stop whose grace ran out: every running command ends now, as at its deadline.
    private var abandonRequested = false

    // Touched only on the session thread.
    private var connection: SSHConnection.Connected?
    private var running: [Run] = []
    private var abandoned: [OpaquePointer] = []
    private var everConnected = false
    /// When the server last answered anything: data, a channel opened or closed, a probe.
    private var lastHeard = ContinuousClock.now
    private var readBuffer = [UInt8](repeating: 0, count: 32_768)
    /// A command timed out: is the session itself still there?
    private var probeWanted = false

    /// What the last successful connection learned.
    private(set) var info: ConnectionInfo?

    init(host: Inventory.Host, policy: HostKeyPolicy, timeouts: SSHTimeouts, stopsTimedOutCommands: Bool = true, spooling: OutputSpooling,
         credential: @escaping @Sendable () throws -> Credential, report: @escaping @Sendable (String) -> Void) {
        self.stopsTimedOutCommands = stopsTimedOutCommands
        self.spooling = spooling
        self.host = host
        self.policy = policy
        self.timeouts = timeouts
        self.credential = credential
        self.report = report
    }

    struct Request {
        var command: String
        var deadline: ContinuousClock.Instant?
        /// Nil for drctl's own housekeeping (stopping a command given up on): nobody waits for it.
        var continuation: CheckedContinuation<CommandResult, Error>?
        /// Only log in, run nothing (ssh-check proves the login apart from the command it runs after).
        var loginOnly = false
        /// Open a channel and close it, to learn whether the server still answers.
        var isProbe = false
    }

    /// Ends every command running now as if its deadline had passed (its process group is sent
    /// TERM from a channel of its own): a stopped run does not wait out a hung command.
    func abandonRunning() {
        let wake = lock.withLock { () -> Int32 in
            abandonRequested = true
            return wakeWrite
        }
        var byte: UInt8 = 1
        if wake >= 0 { _ = write(wake, &byte, 1) }
    }

    func execute(_ command: String, timeout: Duration?) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(Request(command: command, deadline: timeout.map { ContinuousClock.now + $0 }, continuation: continuation))
        }
    }

    /// Logs in (if not yet) without running anything, and returns what the connection learned:
    /// for `ssh-check`, which then proves the session with a command of its own.
    func connectInfo() async throws -> ConnectionInfo {
        _ = try await withCheckedThrowingContinuation { continuation in
            enqueue(Request(command: "", deadline: nil, continuation: continuation, loginOnly: true))
        }
        return lock.withLock { info } ?? ConnectionInfo(fingerprint: "", keyType: "", hostKeyStatus: "", authMethod: "", offeredMethods: "")
    }

    private func enqueue(_ request: Request) {
        lock.lock()
        queued.append(request)
        let needsThread = !started
        started = true
        lock.unlock()
        if needsThread {
            var descriptors: [Int32] = [0, 0]
            pipe(&descriptors)
            wakeRead = descriptors[0]
            wakeWrite = descriptors[1]
            _ = fcntl(wakeRead, F_SETFL, O_NONBLOCK)
            let thread = Thread { [self] in loop() }
            thread.name = "drctl-ssh-\(host.name)"
            thread.start()
        } else {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    // MARK: The session thread

    private func loop() {
        while true {
            lock.lock()
            let fresh = queued
            queued = []
            lock.unlock()
            if !fresh.isEmpty {
                if connection == nil { connect(failing: fresh) } else { start(fresh) }
            }
            var progressed = false
            if let connection {
                // libssh2 1.10 keeps channel-open and exec state in the session, not the channel:
                // one channel at a time is set up; any number read and close at once.
                var settingUp = false
                for run in running where !run.done {
                    if run.isSettingUp {
                        if settingUp { continue }
                        settingUp = true
                    }
                    if advance(run, connection.session) { progressed = true }
                    if self.connection == nil { break }
                }
                if progressed { lastHeard = .now }
                expireDeadlines()
                running.removeAll(where: \.done)
            }
            // Looked up again: a drop above freed the session.
            if let connection = self.connection {
                reapAbandoned(connection.session)
                probeIfQuiet()
            }
            if !progressed { waitForActivity() }
        }
    }

    private func connect(failing requests: [Request]) {
        do {
            let connected = try SSHConnection.open(host, policy: policy, timeouts: timeouts, credential: credential)
            if everConnected {
                report("reconnected to \(host.address):\(host.port) after the session dropped")
            }
            report("connected to \(host.address):\(host.port) as \(host.user) (\(connected.info.authMethod)); host key \(connected.info.keyType) \(connected.info.fingerprint), \(connected.info.hostKeyStatus)")
            everConnected = true
            lock.lock()
            info = connected.info
            lock.unlock()
            connection = connected
            lastHeard = .now
            start(requests)
        } catch {
            for request in requests { request.continuation?.resume(throwing: error) }
        }
    }

    /// Requests to log in only are answered now; commands go on their way.
    private func start(_ requests: [Request]) {
        for request in requests where request.loginOnly {
            request.continuation?.resume(returning: CommandResult(stdout: "", stderr: "", exitStatus: 0, started: Date(), duration: .zero))
        }
        running += requests.filter { !$0.loginOnly }.map { Run($0, spooling) }
    }

    /// Moves one command forward without blocking; true when something happened.
    private func advance(_ run: Run, _ session: OpaquePointer) -> Bool {
        switch run.phase {
        case .opening:
            if run.awaitingSince == nil { run.awaitingSince = .now }
            let window = UInt32(2 * 1024 * 1024), packet = UInt32(32_768)
            guard let channel = libssh2_channel_open_ex(session, "session", 7, window, packet, nil, 0) else {
                let code = libssh2_session_last_errno(session)
                if code == LIBSSH2_ERROR_EAGAIN { return false }
                if run.request.isProbe && code == LIBSSH2_ERROR_CHANNEL_FAILURE {
                    // Refused (too many channels, say) is an answer too.
                    run.done = true
                    return true
                }
                dropped("opening a channel failed: \(SSHConnection.lastError(session))")
                return true
            }
            if run.request.isProbe {
                // Answered: the session lives. The channel is closed like any other.
                run.phase = .closing(channel)
                return true
            }
            run.phase = .starting(channel)
            return true
        case .starting(let channel):
            let command = stopsTimedOutCommands && run.request.continuation != nil ? ProcessGroup.wrap(run.request.command) : run.request.command
            let result = libssh2_channel_process_startup(channel, "exec", 4, command, UInt32(command.utf8.count))
            if result == LIBSSH2_ERROR_EAGAIN { return false }
            if result != 0 {
                // A session that cannot start a command is not to be trusted: start afresh. The
                // command is never sent again on another channel: it may have started.
                dropped("the server would not run `\(run.request.command)`: \(SSHConnection.lastError(session))")
                return true
            }
            run.phase = .reading(channel)
            return true
        case .reading(let channel):
            var progressed = false
            for stream in [Int32(0), Int32(SSH_EXTENDED_DATA_STDERR)] {
                while true {
                    let count = readBuffer.withUnsafeMutableBufferPointer { buffer in
                        let count = libssh2_channel_read_ex(channel, stream, buffer.baseAddress, buffer.count)
                        if count > 0 { (stream == 0 ? run.stdout : run.stderr).append(UnsafeBufferPointer(rebasing: buffer[0..<count])) }
                        return count
                    }
                    if count > 0 {
                        progressed = true
                        continue
                    }
                    if count == Int(LIBSSH2_ERROR_EAGAIN) || count == 0 { break }
                    dropped("the connection broke while `\(run.request.command)` ran (\(SSHConnection.lastError(session)))")
                    return true
                }
            }
            if stopsTimedOutCommands, run.processGroup == nil, run.request.continuation != nil, let (group, rest) = ProcessGroup.split(run.stderr.memory) {
                run.processGroup = group
                run.stderr.replaceMemory(rest)
            }
            if libssh2_channel_eof(channel) != 0 {
                run.phase = .closing(channel)
                return true
            }
            return progressed
        case .closing(let channel):
            let result = libssh2_channel_close(channel)
            if result == LIBSSH2_ERROR_EAGAIN { return false }
            run.phase = .waitingClosed(channel)
            return true
        case .waitingClosed(let channel):
            let result = libssh2_channel_wait_closed(channel)
            if result == LIBSSH2_ERROR_EAGAIN { return false }
            let status = libssh2_channel_get_exit_status(channel)
            var signal: UnsafeMutablePointer<CChar>?
            var signalLength = 0
            libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
            let signalName = signal.map { String(cString: $0) }
            if let signal { libssh2_free(session, signal) }
            libssh2_channel_free(channel)
            var output = CommandResult(stdout: String(decoding: run.stdout.memory, as: UTF8.self), stderr: String(decoding: run.stderr.memory, as: UTF8.self),
                                       exitStatus: signalName == nil ? status : 128, exitSignal: signalName, started: run.started,
                                       duration: ContinuousClock.now - run.clock)
            output.stdoutSpool = run.stdout.finish()
            output.stderrSpool = run.stderr.finish()
            if let problem = run.stdout.failure ?? run.stderr.failure {
                finish(run, throwing: TransportError(.sessionDropped, host: host.name, detail: "`\(run.request.command)` finished, but its output could not be kept: \(problem)",
                                                     hint: "it may or may not have taken effect; free space where the run is recorded"))
                return true
            }
            finish(run, returning: output)
            return true
        }
    }

    private func finish(_ run: Run, returning result: CommandResult) {
        run.done = true
        run.request.continuation?.resume(returning: result)
    }

    private func finish(_ run: Run, throwing error: Error) {
        run.done = true
        run.stdout.discard()
        run.stderr.discard()
        run.request.continuation?.resume(throwing: error)
    }

    /// The session broke: fail what ran on it and start afresh with the next command. Commands
    /// whose channel was not yet open never reached the host: they move to the next session.
    private func dropped(_ detail: String) {
        let error = TransportError(.sessionDropped, host: host.name, detail: detail,
                                   hint: "may or may not have taken effect; drctl reconnects for the next command")
        var unsent: [Request] = []
        for run in running where !run.done {
            if case .opening = run.phase, !run.request.isProbe {
                if run.request.continuation != nil { unsent.append(run.request) }
                run.done = true
            } else {
                finish(run, throwing: error)
            }
        }
        running = []
        abandoned = []
        probeWanted = false
        if let connection {
            // A peer that stopped answering must not hold the thread: every write after this fails at once.
            shutdown(connection.socket, Int32(SHUT_RDWR))
            libssh2_session_free(connection.session)
            close(connection.socket)
        }
        connection = nil
        report("session dropped: \(detail)" + (unsent.isEmpty ? "" : "; \(unsent.count) command(s) not yet sent move to a new session"))
        if !unsent.isEmpty {
            lock.withLock { queued = unsent + queued }
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    /// A command past its deadline is answered with a timeout; its channel is closed later.
    private func expireDeadlines() {
        let now = ContinuousClock.now
        if let unanswered = unansweredSince(), now - unanswered >= timeouts.probe {
            dropped("the host did not answer \(running.contains(where: \.isUnansweredProbe) ? "a probe" : "a request for a channel") within \(DurationSeconds(timeouts.probe))"
                    + " (nothing heard for \(DurationSeconds(now - lastHeard)))")
            return
        }
        let abandonAll = lock.withLock { () -> Bool in
            defer { abandonRequested = false }
            return abandonRequested
        }
        for run in running where !run.done {
            guard abandonAll && run.request.continuation != nil || run.request.deadline.map({ now >= $0 }) == true else { continue }
            probeWanted = true
            finish(run, throwing: TransportError(.commandTimedOut, host: host.name, detail: "`\(run.request.command)` did not finish in time",
                                                 hint: run.processGroup != nil ? "drctl sent it TERM; it may have made its change before that"
                                                     : "the command may still be running on the host"))
            // Closing its channel does not stop it on the host, and libssh2 1.10 cannot send the SSH
            // `signal` request once a command runs: TERM goes to its process group from a channel of its own.
            if let group = run.processGroup {
                running.append(Run(Request(command: ProcessGroup.stop(group), deadline: ContinuousClock.now + .seconds(10), continuation: nil), spooling))
            }
            switch run.phase {
            case .starting(let channel), .reading(let channel), .closing(let channel), .waitingClosed(let channel): abandoned.append(channel)
            case .opening: break
            }
        }
    }

    /// Since when the server owes an answer to the channel being set up (sshd answers within
    /// milliseconds), unless it was heard from since.
    private func unansweredSince() -> ContinuousClock.Instant? {
        guard let since = running.first(where: { !$0.done && $0.isSettingUp })?.awaitingSince else { return nil }
        return max(since, lastHeard)
    }

    private func reapAbandoned(_ session: OpaquePointer) {
        abandoned.removeAll { channel in
            let result = libssh2_channel_close(channel)
            if result == LIBSSH2_ERROR_EAGAIN { return false }
            libssh2_channel_free(channel)
            return true
        }
    }

    /// The keepalive, with its reply checked: when nothing has been heard for a keepalive interval
    /// (or a command just timed out), a channel is opened and closed with a short deadline. libssh2
    /// 1.10 reads a keepalive's reply only while a channel is read, so a channel is the probe.
    private func probeIfQuiet() {
        guard probeWanted || ContinuousClock.now - lastHeard >= timeouts.keepalive,
              !running.contains(where: \.isUnansweredProbe) else { return }
        probeWanted = false
        let probe = Run(Request(command: "(probe)", deadline: nil, continuation: nil, isProbe: true), spooling)
        // Next to be set up, after the one libssh2 is in the middle of.
        let position = running.firstIndex(where: { $0.isSettingUp }).map { $0 + 1 } ?? 0
        running.insert(probe, at: position)
    }

    /// Sleeps until the socket is ready in the direction libssh2 waits for, a new command
    /// arrives, or a deadline or keepalive is due.
    private func waitForActivity() {
        var descriptors = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        if let connection, !running.isEmpty {
            let directions = libssh2_session_block_directions(connection.session)
            var events: Int16 = 0
            if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
            if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
            descriptors.append(pollfd(fd: connection.socket, events: events == 0 ? Int16(POLLIN) : events, revents: 0))
        }
        var wait: Duration = connection == nil ? .seconds(3600) : timeouts.keepalive
        let now = ContinuousClock.now
        for run in running where !run.done {
            if let deadline = run.request.deadline { wait = min(wait, max(.zero, deadline - now)) }
        }
        if let unanswered = unansweredSince() { wait = min(wait, max(.zero, unanswered + timeouts.probe - now)) }
        if !abandoned.isEmpty { wait = min(wait, .milliseconds(20)) }
        if connection != nil { wait = min(wait, max(.zero, lastHeard + timeouts.keepalive - now)) }
        _ = poll(&descriptors, nfds_t(descriptors.count), Int32(min(wait.milliseconds, 60_000)) + 1)
        var drain = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &drain, drain.count) > 0 {}
    }
}
