import DrctlCore

/// A recovery procedure: parameters and a graph of steps. `docs/runbook-format.md` is its reference.
public struct Runbook: Sendable {
    public var name: String
    public var title: String
    public var description: String
    /// The recovery time objective the run is measured against.
    public var rto: Duration?
    public var params: [Parameter]
    public var limits: Limits
    /// Regular expressions whose matches are masked in every record and on screen.
    public var redact: [String]
    public var steps: [Step]
    /// What a successful run leaves behind, checked against live state at the end of the run.
    public var goal: Goal?
    public var file: String
    /// The file's text, kept so a run can record exactly what it executed.
    public var source: String

    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }

    public struct Parameter: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case text, number, boolean, list
            /// Names of inventory objects: checked against the inventory before anything runs.
            case host, datastore, vm
        }

        public var name: String
        public var description: String
        public var required: Bool
        public var defaultValue: Value?
        public var kind: Kind
        public var location: SourceLocation
    }

    /// Concurrency limits; the CLI's `--max-parallel` and `--max-per-host` override them.
    public struct Limits: Sendable, Equatable {
        public var maxParallel: Int?
        public var maxPerHost: Int?
        /// A read-only step's per-attempt timeout when it sets none (the run's, else 60 s).
        public var readTimeout: Duration?

        public init(maxParallel: Int? = nil, maxPerHost: Int? = nil) {
            self.maxParallel = maxParallel
            self.maxPerHost = maxPerHost
        }
    }
}

/// One node of the step graph.
public struct Step: Sendable {
    public var id: String
    public var title: String
    public var needs: [String]
    /// Steps that must have finished first, however they ended: ordering only (a restore from
    /// backup asked after the power-ons, even when one failed). Their outputs are not read.
    public var after: [String] = []
    public var kind: Kind
    /// The host or hosts the step runs on (inventory names), templated.
    public var on: LocatedTemplate?
    public var foreach: LocatedTemplate?
    /// Run fan-out items by VM priority group (1 first) and honour VM dependencies.
    public var order: ItemOrder
    /// Wait for every item of the steps it needs instead of pipelining item by item.
    public var barrier: Bool
    public var when: LocatedCondition?
    /// What to tell people when `when` leaves the step or an item out, in their words
    /// ("left off: its inventory says power_on: false"), never the rule's text.
    public var skippedBecause: LocatedTemplate? = nil
    public var captures: [Capture]
    public var expect: Expectation
    public var retry: Retry
    public var timeout: Duration?
    public var onFailure: FailurePolicy
    public var verify: Verification?
    public var mutates: Bool
    /// With several hosts in `on:`, run on the first and move to the next only when it fails
    /// for certain there (a fault, a refused connection): the step succeeds on one host.
    public var fallback: Bool
    /// On an approval that stands for manual work (a restore from backup): what is left to it.
    public var handOff: LocatedTemplate?
    /// Named values computed from templates when the step finishes, in order; `result` holds
    /// the step's outputs and the values set before.
    public var set: [(name: String, template: LocatedTemplate)]
    /// Checked after `set:`, over the step's outputs: when it does not hold, the step fails
    /// with the message, and nothing that needs it runs.
    public var ensure: Ensure? = nil
    public var location: SourceLocation
    /// Where each key was written, for messages about it.
    public var keyLocations: [String: SourceLocation]

    public enum Kind: Sendable {
        case run(LocatedTemplate)
        case action(ActionCall)
        case approval(Approval)
        case probe(Probe)
        case wait(Wait)

        public var name: String {
            switch self {
            case .run: return "run"
            case .action: return "action"
            case .approval: return "approval"
            case .probe: return "probe"
            case .wait: return "wait"
            }
        }
    }

    public var isFanOut: Bool { foreach != nil }

    /// The names this step makes available as `steps.ID.NAME`.
    public var outputNames: [String] {
        var names = ["status", "results"] + captures.map(\.name) + set.map(\.name)
        // Steps on hosts say which answered; a read on several hosts goes on without the others.
        if on != nil { names += ["answered", "unanswered", "answered_with_error"] }
        if fallback { names += ["host", "tried"] }
        switch kind {
        case .run: names += ["stdout", "stderr", "exit_status"]
        case .action(let call): names += call.outputNames
        case .approval: names += ["approved_by", "reason"] + (handOff != nil ? ["handed_off"] : [])
        case .probe: names += ["state", "reachable", "detail"]
        case .wait(let wait):
            names += ["attempts"]
            switch wait.check {
            case .run: names += ["stdout", "stderr", "exit_status"]
            case .action(let call): names += call.outputNames
            case .probe: names += ["state", "reachable", "detail"]
            }
        }
        return names
    }
}

public enum ItemOrder: String, Sendable, CaseIterable {
    /// Items run as listed, limited only by concurrency.
    case listed
    /// Items run by priority group 1..5, each group finishing before the next starts.
    case priority
}

public enum FailurePolicy: String, Sendable, CaseIterable {
    /// The step fails; steps that need it are skipped; independent branches finish.
    case abort
    /// The failure is recorded and steps that need it still run.
    case `continue`
    /// The operator chooses retry, continue or abort; without a terminal this is `abort`.
    case ask
}

/// A typed ESXi action and its arguments.
public struct ActionCall: Sendable {
    public var name: String
    public var arguments: [String: LocatedTemplate]
    public var location: SourceLocation
    public var outputNames: [String]
}

public struct Approval: Sendable {
    public var prompt: LocatedTemplate
    /// Values shown to the approver as evidence (e.g. probe results), in the order written.
    public var show: [(label: String, value: LocatedTemplate)]
    /// Who may approve (OS account names; the one who ran sudo counts); anyone when empty.
    public var approvers: [String] = []
    /// Four eyes: the person who started the run cannot approve it.
    public var distinctFromOperator = false
    /// How long to wait for a decision, and what then; nil waits for as long as it takes.
    public var timeout: Duration?
    public var onTimeout: OnTimeout = .deny

    public enum OnTimeout: String, Sendable, CaseIterable {
        /// Decided as denied: what the approval guards does not run.
        case deny
        /// Decided as approved by nobody: the run goes on (for gates that only inform).
        case `continue`
        /// The run stops here, failed: nothing not yet started runs.
        case abort
    }
}

public struct Probe: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        /// ssh: a login banner; tcp: a connect; https: a TLS handshake and an HTTP answer that is
        /// not 5xx (a reverse proxy answering 503 while its backend is down counts as down).
        case ssh, tcp, https
    }

    public enum State: String, Sendable, CaseIterable {
        case up, down
    }

    /// An inventory host name, or `address:port` for TCP.
    public var target: LocatedTemplate
    public var method: Method
    public var port: Int?
    /// The state the step needs; nil (`expect: either`): a question, not a check, whose answer
    /// is a finding either way (a runbook for a down appliance asks whether it is up).
    public var expect: State?
    /// For https: the paths to ask, any one answering below 500 will do.
    public var paths: [String] = ["/ui/", "/sdk"]
}

public struct Wait: Sendable {
    public enum Check: Sendable {
        case run(LocatedTemplate)
        case action(ActionCall)
        /// Reachability from drctl itself, e.g. vCenter's port 443 coming back.
        case probe(Probe)
    }

    public var check: Check
    /// Evaluated after each attempt with `result` bound to its outputs.
    public var until: LocatedCondition
    public var interval: Duration
    public var timeout: Duration
    /// A templated timeout (`{{ params.return_timeout }}`), evaluated when the wait starts.
    public var timeoutTemplate: LocatedTemplate?
}

/// Pulls named values out of a command's output.
public struct Capture: Sendable {
    public enum Source: Sendable {
        /// The first match's group (or every match's, with `all`).
        case regex(pattern: String, group: Int, all: Bool)
        /// Non-empty lines as a list.
        case lines
        /// A named ESXi output parser.
        case parser(String)
    }

    public var name: String
    public var source: Source
    public var location: SourceLocation
}

/// What makes a command succeed. The default is exit status 0.
/// `ensure:`: what discovery must have established before anything goes on.
public struct Ensure: Sendable {
    /// A condition over `result` (the step's outputs and its `set:` values).
    public var that: LocatedCondition
    /// What to tell the operator when it does not hold: what is wrong and what to do.
    public var message: LocatedTemplate
}

public struct Expectation: Sendable {
    public var exitStatuses: [Int32]
    public var stdoutContains: [String]
    public var stdoutNotContains: [String]
    public var stdoutMatches: String?
    public var stderrEmpty: Bool
    /// A condition over `result` (captures, stdout, exit_status).
    public var that: LocatedCondition?
    /// What to tell the operator when the expectation fails.
    public var message: String?

    public init(exitStatuses: [Int32] = [0], stdoutContains: [String] = [], stdoutNotContains: [String] = [], stdoutMatches: String? = nil,
                stderrEmpty: Bool = false, that: LocatedCondition? = nil, message: String? = nil) {
        self.message = message
        self.exitStatuses = exitStatuses
        self.stdoutContains = stdoutContains
        self.stdoutNotContains = stdoutNotContains
        self.stdoutMatches = stdoutMatches
        self.stderrEmpty = stderrEmpty
        self.that = that
    }

    public static let exitZero = Expectation()
    /// Any exit status: the output alone is what counts (wait checks).
    public static let anyExit = Expectation(exitStatuses: Array(0...255))
}

public struct Retry: Sendable, Equatable {
    public var attempts: Int
    public var delay: Duration
    /// Each further delay is multiplied by this.
    public var backoff: Double
    public var maxDelay: Duration?

    public static let none = Retry(attempts: 1, delay: .zero, backoff: 1, maxDelay: nil)

    /// The pause before attempt `attempt` (2, 3, ...).
    public func delay(before attempt: Int) -> Duration {
        guard attempt > 1 else { return .zero }
        let factor = pow(backoff, Double(attempt - 2))
        let milliseconds = Double(delay.milliseconds) * factor
        let capped = maxDelay.map { min(milliseconds, Double($0.milliseconds)) } ?? milliseconds
        return .milliseconds(Int64(capped))
    }
}

/// A read-only check of whether a step's effect already exists.
public enum Verification: Sendable {
    /// The typed action's own check (`verify: true`, the default for mutating actions).
    case builtIn
    case run(LocatedTemplate, Expectation)
    case action(ActionCall, LocatedCondition?)
    case disabled
}

import Foundation
