import Foundation
import RunbookFormat

/// How the engine reaches hosts. The in-process simulator and the SSH transport implement it;
/// the engine knows nothing else about either.
public protocol Transport: Sendable {
    /// Runs one command on a host and returns what it printed. Throws `TransportError` when the
    /// host cannot be reached or the command cannot complete.
    func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult

    /// Checks reachability: SSH login to an inventory host, or a TCP connect to address:port.
    func probe(_ request: ProbeRequest) async -> ProbeResult

    /// The run was stopped and its grace ran out: end every command still running now, as at
    /// its deadline (over SSH: its process group is sent TERM where the session still works).
    func abandonRunningCommands() async
}

extension Transport {
    /// Transports whose commands end by themselves (the simulator's, at their deadline) do nothing.
    public func abandonRunningCommands() async {}
}

public struct CommandResult: Sendable, Equatable {
    /// What the command printed; only the first part when the rest was spooled (`stdoutSpool`).
    public var stdout: String
    public var stderr: String
    /// Output beyond what is held in memory, streamed whole (already masked) to a file as it arrived.
    public var stdoutSpool: SpooledOutput?
    public var stderrSpool: SpooledOutput?
    public var exitStatus: Int32
    /// The signal that ended the command (`KILL`, `TERM`...), when one did.
    public var exitSignal: String?
    public var started: Date
    public var duration: Duration

    public init(stdout: String, stderr: String = "", exitStatus: Int32 = 0, exitSignal: String? = nil,
                started: Date = Date(), duration: Duration = .zero) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.started = started
        self.duration = duration
    }
}

/// A command's whole output on one stream, written to a file as it arrived, secrets masked. The
/// run's record takes the file over (renames it), so the output is stored once.
public struct SpooledOutput: Sendable, Equatable {
    /// Beyond this many bytes, a transport streams a command's output to a file.
    public static let memoryLimit = 16 * 1024 * 1024

    public var path: String
    public var bytes: Int
    public var sha256: String

    public init(path: String, bytes: Int, sha256: String) {
        self.path = path
        self.bytes = bytes
        self.sha256 = sha256
    }
}

public struct ProbeRequest: Sendable, Hashable {
    public var method: Probe.Method
    /// The inventory host, for SSH probes and TCP probes of a named host.
    public var host: Inventory.Host?
    public var address: String
    public var port: Int
    public var timeout: Duration
    /// For https: the paths to ask.
    public var paths: [String]

    public init(method: Probe.Method, host: Inventory.Host?, address: String, port: Int, timeout: Duration, paths: [String] = ["/ui/", "/sdk"]) {
        self.method = method
        self.host = host
        self.address = address
        self.port = port
        self.timeout = timeout
        self.paths = paths
    }
}

public struct ProbeResult: Sendable, Equatable {
    public var state: Probe.State
    /// What was seen: "SSH login as root succeeded", "connection refused"...
    public var detail: String

    public init(state: Probe.State, detail: String) {
        self.state = state
        self.detail = detail
    }
}

/// Why a command could not run, with the host and what the operator can do about it.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case unreachable = "unreachable"
        case refused = "connection refused"
        case timedOut = "timed out"
        case authenticationFailed = "authentication failed"
        case hostKeyUnknown = "host key unknown"
        case hostKeyMismatch = "host key mismatch"
        case sessionDropped = "session dropped"
        /// TCP connected and sshd answered, but no algorithm is in common (an RSA-only host key).
        case noCommonAlgorithm = "no algorithm in common"
        case commandTimedOut = "command timed out"
        case unsupported = "not supported"
    }

    public var kind: Kind
    public var host: String
    public var detail: String
    public var hint: String

    public init(_ kind: Kind, host: String, detail: String, hint: String = "") {
        self.kind = kind
        self.host = host
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        "\(host): \(kind.rawValue): \(detail)" + (hint.isEmpty ? "" : " (\(hint))")
    }
}
