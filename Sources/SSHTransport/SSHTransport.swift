import DrctlCore
import Engine
import Foundation
import RunbookFormat

/// The engine's transport over SSH (libssh2): one session per host, reused for every command.
public final class SSHTransport: Transport, @unchecked Sendable {
    public struct Settings: Sendable {
        public var knownHostsPath: String
        public var acceptNewHostKeys: Bool
        public var timeouts: SSHTimeouts
        /// Stop a command given up on (past its deadline) on the host: each command reports its
        /// process group first, and a timed-out one is sent TERM from a second channel.
        public var stopsTimedOutCommands: Bool
        /// Where output larger than `outputMemoryLimit` is streamed as it arrives: the run's
        /// `outputs/` directory, so the record takes the file over without copying it.
        public var outputDirectory: String
        public var outputMemoryLimit: Int

        public init(knownHostsPath: String, acceptNewHostKeys: Bool = false, timeouts: SSHTimeouts = SSHTimeouts(), stopsTimedOutCommands: Bool = true,
                    outputDirectory: String = NSTemporaryDirectory(), outputMemoryLimit: Int = SpooledOutput.memoryLimit) {
            self.outputDirectory = outputDirectory
            self.outputMemoryLimit = outputMemoryLimit
            self.knownHostsPath = knownHostsPath
            self.acceptNewHostKeys = acceptNewHostKeys
            self.timeouts = timeouts
            self.stopsTimedOutCommands = stopsTimedOutCommands
        }

        /// The inventory's known_hosts, or `~/.ssh/known_hosts`.
        public static func defaultKnownHosts(for inventory: Inventory) -> String {
            expandHome(inventory.knownHosts ?? "~/.ssh/known_hosts")
        }
    }

    private let inventory: Inventory
    private let settings: Settings
    private let prompt = PasswordPrompt()
    private let report: @Sendable (String, String) -> Void
    private let redactor: Redactor
    private let lock = NSLock()
    private var sessions: [String: SSHSession] = [:]

    /// `report(host, message)` receives connection events (connects, host keys, drops,
    /// reconnects) for the run's record.
    /// Passwords and passphrases read for a host are registered with `redactor`, so records and
    /// screens mask them wherever they appear.
    public init(inventory: Inventory, settings: Settings, redactor: Redactor = Redactor(),
                report: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        self.redactor = redactor
        self.inventory = inventory
        self.settings = settings
        self.report = report
    }

    private func session(for host: Inventory.Host) -> SSHSession {
        lock.withLock {
            if let existing = sessions[host.name] { return existing }
            let prompt = self.prompt
            let report = self.report
            let redactor = self.redactor
            let session = SSHSession(host: host, policy: HostKeyPolicy(knownHostsPath: settings.knownHostsPath, acceptNew: settings.acceptNewHostKeys),
                                     timeouts: settings.timeouts, stopsTimedOutCommands: settings.stopsTimedOutCommands,
                                     spooling: OutputSpooling(directory: settings.outputDirectory, redactor: redactor, memoryLimit: settings.outputMemoryLimit),
                                     credential: {
                                         let credential = try Credential.resolve(host.auth, for: host, prompt: prompt)
                                         credential.secret.map(redactor.register)
                                         return credential
                                     },
                                     report: { report(host.name, $0) })
            sessions[host.name] = session
            return session
        }
    }

    /// How many sessions were opened (one per host reached).
    public var sessionCount: Int { lock.withLock { sessions.count } }

    public func abandonRunningCommands() async {
        for session in lock.withLock({ Array(sessions.values) }) { session.abandonRunning() }
    }

    public func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        try await session(for: host).execute(command, timeout: timeout)
    }

    /// Connects and authenticates, for `drctl ssh-check`.
    public func check(_ host: Inventory.Host) async throws -> ConnectionInfo {
        try await session(for: host).connectInfo()
    }

    public func probe(_ request: ProbeRequest) async -> ProbeResult {
        await onOwnThread { Self.probeBlocking(request) }
    }

    /// TCP: the port accepts a connection. SSH: the server also sends its banner in time.
    static func probeBlocking(_ request: ProbeRequest) -> ProbeResult {
        if request.method == .https { return HTTPSProbe.check(request) }
        let target = Inventory.Host(name: request.host?.name ?? request.address, address: request.address, port: request.port)
        let descriptor: Int32
        do {
            descriptor = try SSHConnection.connectTCP(target, timeout: request.timeout)
        } catch let error as TransportError {
            return ProbeResult(state: .down, detail: error.detail)
        } catch {
            return ProbeResult(state: .down, detail: "\(error)")
        }
        defer { close(descriptor) }
        guard request.method == .ssh else { return ProbeResult(state: .up, detail: "\(request.address):\(request.port) accepted the connection") }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 256)
        guard poll(&poller, 1, Int32(request.timeout.milliseconds)) > 0 else {
            return ProbeResult(state: .down, detail: "\(request.address):\(request.port) accepted TCP but sent no SSH banner within \(DurationSeconds(request.timeout))")
        }
        let count = read(descriptor, &buffer, buffer.count)
        let banner = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingWhitespace() : ""
        guard banner.hasPrefix("SSH-") else {
            return ProbeResult(state: .down, detail: "\(request.address):\(request.port) answered, but not with SSH")
        }
        return ProbeResult(state: .up, detail: "\(request.address):\(request.port) answers SSH (\(banner))")
    }
}

/// Runs blocking work on a thread of its own, never on Swift's cooperative pool.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}
