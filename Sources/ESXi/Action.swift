import DrctlCore

/// What a command printed on an ESXi host.
public struct ShellOutput: Sendable, Equatable {
    public var stdout: String
    public var stderr: String
    public var exitStatus: Int32

    public init(stdout: String, stderr: String = "", exitStatus: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitStatus = exitStatus
    }

    /// stdout and stderr together, as an operator would read them.
    public var combined: String { stderr.isEmpty ? stdout : stdout + (stdout.isEmpty || stdout.hasSuffix("\n") ? "" : "\n") + stderr }
}

/// Runs commands on one ESXi host. The engine adapts its transport to this; tests and the
/// simulator provide their own.
public protocol ESXiShell: Sendable {
    func run(_ command: String) async throws -> ShellOutput
    /// The host's name in the inventory. A listing's items carry it: later steps read lists
    /// gathered from many hosts at once, and each item must still say where it is.
    var hostName: String { get }
    /// The run's clock: an action that polls sleeps on it (virtual time in drills).
    var clock: any RunClock { get }
}

extension ESXiShell {
    public var clock: any RunClock { SystemClock() }
}

/// An error after which an action must stop at once rather than poll on (the run's record can no
/// longer be written): actions that tolerate a failed read pass these through.
public protocol StopsTheAction: Error {}

/// A command ESXi answered with a failure that carries no vSphere fault.
public struct ESXiCommandFailed: Error, Sendable, Equatable, CustomStringConvertible {
    public var command: String
    public var output: ShellOutput

    public var description: String {
        let text = output.combined.trimmingWhitespace()
        return "`\(command)` exited \(output.exitStatus)" + (text.isEmpty ? "" : ": \(text)")
    }
}

/// A parameter a typed action accepts under `with:`.
public struct ActionParameter: Sendable {
    public enum Kind: Sendable, Equatable {
        case text
        case integer
        case boolean
        case duration
        case choice([String])
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    public var summary: String

    public init(_ name: String, _ kind: Kind, required: Bool = true, _ summary: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.summary = summary
    }
}

/// The arguments of one action call, already rendered from templates.
public struct ActionArguments: Sendable {
    public var values: [String: Value]

    public init(_ values: [String: Value]) { self.values = values }

    public func text(_ name: String) throws -> String {
        guard let value = values[name], value != .null else { throw ActionArgumentError.missing(name) }
        return value.text
    }

    public func optionalText(_ name: String) -> String? {
        guard let value = values[name], value != .null, !value.text.isEmpty else { return nil }
        return value.text
    }

    public func integer(_ name: String) throws -> Int {
        let text = try text(name)
        guard let number = Int(text.trimmingBlanks()) else {
            throw ActionArgumentError.wrongKind(name, expected: "a whole number", got: text)
        }
        return number
    }

    public func boolean(_ name: String) throws -> Bool {
        switch try text(name).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        case let other: throw ActionArgumentError.wrongKind(name, expected: "true or false", got: other)
        }
    }
}

public enum ActionArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing(String)
    case wrongKind(String, expected: String, got: String)

    public var description: String {
        switch self {
        case .missing(let name): return "the action needs `\(name)` under `with:`"
        case .wrongKind(let name, let expected, let got): return "`\(name)` must be \(expected), got '\(got)'"
        }
    }
}

/// A built-in, typed ESXi operation a step can name with `action:`.
public struct ESXiAction: Sendable {
    public typealias Outputs = [String: Value]

    public var name: String
    public var summary: String
    public var parameters: [ActionParameter]
    /// Whether it changes the host. Dry-runs never perform mutating actions.
    public var mutates: Bool
    /// The capture names it produces, usable as `steps.ID.NAME`.
    public var outputs: [String]
    /// The commands it would send, for dry-run plans.
    public var plan: @Sendable (ActionArguments) throws -> [String]
    public var perform: @Sendable (ActionArguments, any ESXiShell) async throws -> Outputs
    /// A read-only check: the outputs when the effect already exists, nil when it does not.
    public var verify: (@Sendable (ActionArguments, any ESXiShell) async throws -> Outputs?)?
    /// How long a change sent by a process that died may take to land on the host: a resume that
    /// finds it not done waits this long and checks again before sending it once more.
    public var settle: Duration = .seconds(10)

    public init(name: String, summary: String, parameters: [ActionParameter] = [], mutates: Bool, outputs: [String],
                plan: @escaping @Sendable (ActionArguments) throws -> [String],
                perform: @escaping @Sendable (ActionArguments, any ESXiShell) async throws -> Outputs,
                verify: (@Sendable (ActionArguments, any ESXiShell) async throws -> Outputs?)? = nil) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.mutates = mutates
        self.outputs = outputs
        self.plan = plan
        self.perform = perform
        self.verify = verify
    }
}

extension ESXiAction {
    /// The same action with another settle time (seconds).
    static func settling(_ seconds: Int, _ action: ESXiAction) -> ESXiAction {
        var changed = action
        changed.settle = .seconds(Int64(seconds))
        return changed
    }
}

extension ESXiShell {
    /// Runs a command and fails on a vSphere fault or a non-zero exit.
    func checked(_ command: String) async throws -> ShellOutput {
        let output = try await run(command)
        if let fault = ESXiFault.find(in: output.combined) { throw fault }
        guard output.exitStatus == 0 else { throw ESXiCommandFailed(command: command, output: output) }
        return output
    }
}
