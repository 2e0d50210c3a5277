import DrctlCore
import Foundation
import RunbookFormat

/// A drill's world: the fleet at the start, its faults, and the end state a successful recovery
/// must reach. Loaded from `Simulator/*.yaml` (see docs/simulator.md).
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    public var file: String
    public var fleet: Fleet
    public var expectations: [Expectation]
    /// The run outcome a correct runbook reaches here: `succeeded`, or `partial`, `handed off`,
    /// `failed` for a fault it cannot recover from (the checks then say what must still hold).
    public var expectedOutcome: String = "succeeded"
    /// For generated sites: invariants any correct recovery meets, the outcome word included,
    /// instead of one expected outcome.
    public var invariants: SiteInvariants?
    /// How long ESXi's commands and the guests' boots take, in virtual time.
    public var durations = CommandDurations.defaults
    /// Inventory metadata that is not fleet state: which inventory host name the appliance has.
    public var inventory: Inventory

    /// One end-state assertion.
    public enum Expectation: Sendable, Equatable {
        case vm(name: String, power: SimVM.Power?, hostIn: [String]?, hostNot: [String]?, registeredOnce: Bool)
        case datastore(name: String, mountedOn: [String])
        case vcenter(running: Bool)
        case host(name: String, maintenance: Bool?, hostdRunning: Bool?)
    }

    public struct Verdict: Sendable, Equatable {
        public var expectation: String
        public var passed: Bool
        public var detail: String
    }

    /// Checks every expectation against a fleet.
    public func check(_ fleet: Fleet) -> [Verdict] {
        expectations.map { Self.check($0, fleet) }
    }

    static func check(_ expectation: Expectation, _ fleet: Fleet) -> Verdict {
        switch expectation {
        case .vm(let name, let power, let hostIn, let hostNot, let registeredOnce):
            var wanted: [String] = []
            if let power { wanted.append("powered \(power.rawValue)") }
            if let hostIn { wanted.append("on \(hostIn.joined(separator: " or "))") }
            if let hostNot { wanted.append("not on \(hostNot.joined(separator: ", "))") }
            if registeredOnce { wanted.append("registered exactly once") }
            let text = "vm \(name) " + wanted.joined(separator: ", ")
            guard let vm = fleet.vms.first(where: { $0.name == name }) else { return Verdict(expectation: text, passed: false, detail: "no such VM") }
            let host = vm.registration?.host
            var problems: [String] = []
            if let power, vm.power != power { problems.append("it is powered \(vm.power.rawValue)") }
            if let hostIn, !hostIn.contains(host ?? "") { problems.append(host.map { "it is on \($0)" } ?? "it is not registered") }
            if let hostNot, let host, hostNot.contains(host) { problems.append("it is on \(host)") }
            if registeredOnce, host == nil { problems.append("it is not registered") }
            if vm.question != nil { problems.append("it waits on question \(vm.question!.key)") }
            return Verdict(expectation: text, passed: problems.isEmpty,
                           detail: problems.isEmpty ? "powered \(vm.power.rawValue)" + (host.map { ", on \($0)" } ?? ", not registered") : problems.joined(separator: "; "))
        case .datastore(let name, let mountedOn):
            let text = "datastore \(name) mounted on \(mountedOn.joined(separator: ", "))"
            guard let datastore = fleet.datastores.first(where: { $0.name == name }) else { return Verdict(expectation: text, passed: false, detail: "no such datastore") }
            let missing = mountedOn.filter { !datastore.isMounted(on: $0) }
            return Verdict(expectation: text, passed: missing.isEmpty,
                           detail: missing.isEmpty ? "mounted" : "not mounted on \(missing.joined(separator: ", ")) (condition \(datastore.condition.rawValue))")
        case .vcenter(let running):
            let text = "vCenter \(running ? "running" : "down")"
            guard let vcenter = fleet.vcenter else { return Verdict(expectation: text, passed: false, detail: "the scenario has no vCenter") }
            let vmOn = fleet.vms.contains { $0.name == vcenter.vm && $0.power == .on }
            let isRunning = vmOn && vcenter.servicesRunning
            let detail = "appliance VM \(vmOn ? "on" : "off"), services \(vcenter.servicesRunning ? "running" : "stopped")"
            return Verdict(expectation: text, passed: isRunning == running, detail: detail)
        case .host(let name, let maintenance, let hostdRunning):
            let text = "host \(name)" + (maintenance.map { $0 ? " in maintenance mode" : " not in maintenance mode" } ?? "") + (hostdRunning.map { $0 ? ", hostd running" : ", hostd stopped" } ?? "")
            guard let host = fleet.hosts.first(where: { $0.name == name }) else { return Verdict(expectation: text, passed: false, detail: "no such host") }
            var problems: [String] = []
            if let maintenance, host.maintenanceMode != maintenance { problems.append("maintenance mode is \(host.maintenanceMode ? "on" : "off")") }
            if let hostdRunning, host.hostdRunning != hostdRunning { problems.append("hostd is \(host.hostdRunning ? "running" : "stopped")") }
            return Verdict(expectation: text, passed: problems.isEmpty, detail: problems.isEmpty ? "as expected" : problems.joined(separator: "; "))
        }
    }
}
