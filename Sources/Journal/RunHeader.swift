import Foundation

/// What the run-started entry records about the inputs, so a reviewer can tell exactly what ran
/// and `drctl resume` can load the same inputs again.
public struct RunHeader: Sendable {
    public struct StepInfo: Sendable {
        public var id: String
        public var title: String
        /// `run`, `action`, `wait`, `approval`, `probe`.
        public var kind: String
        /// The typed action, for `action` steps (`vm.power.on` marks a VM's recovery).
        public var action: String?
        public var mutates: Bool

        public init(id: String, title: String, kind: String, action: String?, mutates: Bool) {
            self.id = id
            self.title = title
            self.kind = kind
            self.action = action
            self.mutates = mutates
        }
    }

    /// The simulated world of a drill: resume loads it again and reads the fleet's saved state.
    public struct Drill: Sendable {
        public var scenarioFile: String
        public var scenarioSource: String
        public var seed: UInt64
        public var viaSSH: Bool

        public init(scenarioFile: String, scenarioSource: String, seed: UInt64, viaSSH: Bool) {
            self.scenarioFile = scenarioFile
            self.scenarioSource = scenarioSource
            self.seed = seed
            self.viaSSH = viaSSH
        }
    }

    public var runbookFile: String
    public var runbookSource: String
    public var inventoryFile: String?
    public var inventorySource: String?
    /// Every inventory host as `name address`.
    public var hosts: [String]
    public var steps: [StepInfo]
    public var rto: Duration?
    public var drill: Drill?
    /// Safety-relevant flags the run was started with (`--ignore-leases`, ...): on record.
    public var flags: [String] = []
    /// The name given with `--operator`, recorded beside the OS account.
    public var operatorGivenName: String?
    /// The public key that signs this run's checkpoints (`--sign-key`), hex.
    public var signedBy: String?

    public init(runbookFile: String, runbookSource: String, inventoryFile: String?, inventorySource: String?, hosts: [String],
                steps: [StepInfo], rto: Duration?, drill: Drill?) {
        self.runbookFile = runbookFile
        self.runbookSource = runbookSource
        self.inventoryFile = inventoryFile
        self.inventorySource = inventorySource
        self.hosts = hosts
        self.steps = steps
        self.rto = rto
        self.drill = drill
    }

    var fields: [String: Any] {
        var fields: [String: Any] = [
            "runbook_file": runbookFile, "runbook_sha256": JournalChain.sha256(Data(runbookSource.utf8)),
            "inventory_file": inventoryFile ?? "", "hosts": hosts,
            "steps": steps.map { step -> [String: Any] in
                var info: [String: Any] = ["id": step.id, "title": step.title, "kind": step.kind, "mutates": step.mutates]
                if let action = step.action { info["action"] = action }
                return info
            },
        ]
        if let inventorySource { fields["inventory_sha256"] = JournalChain.sha256(Data(inventorySource.utf8)) }
        if let rto { fields["rto_ms"] = Int(rto.milliseconds) }
        fields["kind"] = drill == nil ? "run" : "drill"
        if !flags.isEmpty { fields["flags"] = flags }
        if let operatorGivenName { fields["operator_given_name"] = operatorGivenName }
        if let signedBy { fields["signed_by"] = signedBy }
        if let drill {
            fields["drill"] = ["scenario_file": drill.scenarioFile, "scenario_sha256": JournalChain.sha256(Data(drill.scenarioSource.utf8)),
                               "seed": String(drill.seed), "via_ssh": drill.viaSSH, "fleet_state": RunDirectory.fleetStateName]
        }
        return fields
    }
}
