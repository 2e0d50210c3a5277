import Foundation
import RunbookFormat

/// What any correct recovery leaves behind on a site, whatever its shape: checked against the
/// simulated fleet at the end of a drill of a generated site (`invariants:` in the scenario).
///
/// - every VM the capacity policy can place is recovered exactly once, on a host that is up and
///   mounts its datastore (`CapacityPolicy`: the rule the runbooks' placement follows);
/// - no VM is registered twice;
/// - power-ons respect priority groups and `depends_on`;
/// - nothing is done to VMs the failure did not affect;
/// - the outcome word the run reported matches the live end state.
public struct SiteInvariants: Sendable, Equatable {
    /// What the drill is about, as the scenario's `invariants:` names it.
    public enum Subject: Sendable, Equatable {
        case failedHost(String)
        case lostDatastore(String)
        case vcenter
    }

    public var subject: Subject

    public init(subject: Subject) { self.subject = subject }

    /// One verdict per invariant, in the order above.
    public func check(_ scenario: Scenario, final: Fleet, outcome: String, policy: CapacityPolicy = CapacityPolicy()) -> [Scenario.Verdict] {
        let initial = scenario.fleet
        let affected = affectedVMs(initial).filter { !$0.isTemplate }
        let wantedOn = Dictionary(scenario.inventory.vms.map { ($0.name, $0.powerOn) }, uniquingKeysWith: { first, _ in first })
        let log = final.changeLog.compactMap(Self.entry)
        var verdicts: [Scenario.Verdict] = []

        // Recovered exactly once, on an eligible host, powered as its inventory wants (a VM whose
        // power-on is made to fail, or that depends on a VM that does not run, need only be registered).
        // The appliance is off because vCenter is down: recovering it means running it.
        let wants = { (name: String) -> Bool in self.subject == .vcenter || (wantedOn[name] ?? true) }
        let faulted = faultedVMs(final, affected: Set(affected.map(\.name)))
        var holding: [String] = [], notHolding: [String] = [], incomplete: [String] = []
        for vm in affected {
            let wantOn = wants(vm.name)
            let holdsNow = isRegistered(vm.name, final: final) && (final.vms.first { $0.name == vm.name }!.power == .on) == wantOn
            if holdsNow { holding.append(vm.name) } else { notHolding.append(vm.name) }
            let acceptable = holdsNow || (faulted.contains(vm.name) && isRegistered(vm.name, final: final))
            if !acceptable, recoverable(vm, wantOn: wantOn, final: final, policy: policy, recovered: Set(affected.map(\.name)), wants: wants) {
                incomplete.append(vm.name)
            }
        }
        verdicts.append(verdict("every VM the capacity policy can place is recovered exactly once on an eligible host",
                                problems: incomplete.map { "\($0) is not" }))

        var registrations: [String: Int] = [:]
        for (_, action, vm) in log where action == "registervm" { registrations[vm, default: 0] += 1 }
        verdicts.append(verdict("no VM is registered twice", problems: registrations.filter { $0.value > 1 }.map { "\($0.key) registered \($0.value) times" }.sorted()))

        verdicts.append(verdict("power-ons respect priority groups and depends_on", problems: orderProblems(log, initial)))

        let affectedNames = Set(affected.map(\.name))
        let touched = Set(log.map(\.vm).filter { !$0.isEmpty && initial.vmIndex(named: $0) != nil && !affectedNames.contains($0) })
        verdicts.append(verdict("nothing is done to VMs the failure did not affect", problems: touched.sorted().map { "\($0) was touched" }))

        // What the goal of a correct runbook says: handed off when all that is missing sits on
        // storage no host that is up can read (a restore from backup), partial when some holds.
        let storageLost = notHolding.filter { name in !final.hosts.contains { $0.state == .up && final.datastoreAccessible(final.vms.first { $0.name == name }!.datastore, from: $0.name) } }
        let truth: String
        if subject == .vcenter {
            truth = vcenterRunning(final) && notHolding.isEmpty ? "succeeded" : "failed"
        } else if notHolding.isEmpty && datastoreBack(final) {
            truth = "succeeded"
        } else if !notHolding.isEmpty && storageLost.count == notHolding.count {
            truth = "handed off"
        } else {
            // A datastore that came back is part of what was recovered.
            let someHolds = !holding.isEmpty || (datastoreSubject && datastoreBack(final))
            truth = someHolds ? "partial" : "failed"
        }
        verdicts.append(Scenario.Verdict(expectation: "the outcome word matches the live end state", passed: outcome == truth,
                                         detail: outcome == truth ? "\(outcome): \(holding.count) of \(affected.count) affected VMs hold"
                                             : "the run said \(outcome), the hosts say \(truth) (holding: \(holding.joined(separator: ", ")); not: \(notHolding.joined(separator: ", ")))"))
        return verdicts
    }

    // MARK: The site

    /// The VMs the failure took down or made invalid.
    func affectedVMs(_ fleet: Fleet) -> [SimVM] {
        fleet.vms.filter { vm in
            switch subject {
            case .failedHost(let host): return vm.registration?.host == host || vm.owner == host && vm.registration == nil
            case .lostDatastore(let datastore): return vm.datastore == datastore
            case .vcenter: return vm.name == fleet.vcenter?.vm
            }
        }
    }

    /// Power-ons that cannot succeed (an injected fault), VMs that depend on an affected VM that
    /// does not run, and everything that depends on those.
    func faultedVMs(_ fleet: Fleet, affected: Set<String>) -> Set<String> {
        var faulted = Set(fleet.vms.filter(\.failsToPowerOn).map(\.name))
        // A dependency that does not run (failed, or off and never registered) excuses its dependants.
        let notRunning = affected.filter { name in fleet.vms.first { $0.name == name }?.power != .on }
        var grew = true
        while grew {
            grew = false
            for vm in fleet.vms where !faulted.contains(vm.name) && vm.dependsOn.contains(where: { faulted.contains($0) || notRunning.contains($0) }) {
                faulted.insert(vm.name)
                grew = true
            }
        }
        return faulted
    }

    /// Registered (validly) on a host that is up and mounts the VM's datastore.
    func isRegistered(_ name: String, final: Fleet) -> Bool {
        guard let vm = final.vms.first(where: { $0.name == name }), let host = vm.registration?.host, !vm.invalid,
              let index = final.hostIndex(host), final.hosts[index].state == .up else { return false }
        return final.datastoreAccessible(vm.datastore, from: host)
    }

    /// Some host that is up, not in maintenance mode and able to register from its datastore
    /// mounts it and, by the capacity policy, can still take it now: room for its memory (none
    /// when it stays off), its reservation within what is not reserved yet, fewer than the cap
    /// of recovered VMs.
    /// Left unrecovered with such a host still there, it is a VM the runbook should have placed.
    /// The memory a recovered VM was placed with counts as taken even when its power-on failed
    /// (a fault, a dependency that does not run): placement gave it that room.
    func recoverable(_ vm: SimVM, wantOn: Bool, final: Fleet, policy: CapacityPolicy, recovered: Set<String>,
                     wants: (String) -> Bool) -> Bool {
        let memory = wantOn ? Double(vm.memoryMB) : 0
        let reservation = wantOn ? vm.memoryReservationMB ?? 0 : 0
        return final.hosts.contains { host in
            guard host.state == .up, !host.maintenanceMode, final.datastoreAccessible(vm.datastore, from: host.name),
                  !(host.refusesRegistrationFrom ?? []).contains(vm.datastore) else { return false }
            let registered = final.registeredIndices(on: host.name)
            let taken = registered.filter { recovered.contains(final.vms[$0].name) }.count
            let placedButOff = registered.filter { index in
                let other = final.vms[index]
                return other.power != .on && recovered.contains(other.name) && wants(other.name)
            }.reduce(0) { $0 + final.vms[$1].memoryMB }
            let used = Double(final.memoryInUse(on: host.name) + placedButOff)
            return policy.room(memoryMB: Double(host.memoryMB), usedMB: used) >= memory
                && (!policy.honoursReservations || final.memoryReserved(on: host.name) + reservation <= host.memoryMB)
                && taken < policy.maxVMsPerHost
        }
    }

    var datastoreSubject: Bool {
        if case .lostDatastore = subject { return true }
        return false
    }

    func datastoreBack(_ final: Fleet) -> Bool {
        guard case .lostDatastore(let name) = subject, let datastore = final.datastores.first(where: { $0.name == name }) else { return true }
        return datastore.hosts.allSatisfy { host in
            final.hostIndex(host).map { final.hosts[$0].state != .up } ?? true || datastore.isMounted(on: host)
        }
    }

    func vcenterRunning(_ final: Fleet) -> Bool {
        guard let vcenter = final.vcenter else { return false }
        return vcenter.servicesRunning && final.vms.contains { $0.name == vcenter.vm && $0.power == .on }
    }

    // MARK: The change log

    /// `host: action vm` (the VM's name may hold anything, even `: `).
    static func entry(_ line: String) -> (host: String, action: String, vm: String)? {
        guard let colon = line.range(of: ": ") else { return nil }
        let host = String(line[..<colon.lowerBound])
        let rest = String(line[colon.upperBound...])
        for action in ["registervm", "power.on", "power.off", "unregister", "answer"] where rest.hasPrefix(action + " ") {
            var vm = String(rest.dropFirst(action.count + 1))
            if vm.hasSuffix(" (landed late)") { vm.removeLast(" (landed late)".count) }
            if action == "answer", let space = vm.lastIndex(of: " ") { vm = String(vm[..<space]) }
            return (host, action, vm)
        }
        return (host, rest, "")
    }

    func orderProblems(_ log: [(host: String, action: String, vm: String)], _ fleet: Fleet) -> [String] {
        let powerOns = log.filter { $0.action == "power.on" }.map(\.vm)
        var first: [String: Int] = [:]
        for (index, vm) in powerOns.enumerated() where first[vm] == nil { first[vm] = index }
        var problems: [String] = []
        for (vm, position) in first {
            guard let info = fleet.vms.first(where: { $0.name == vm }) else { continue }
            for (other, otherPosition) in first where otherPosition > position {
                guard let later = fleet.vms.first(where: { $0.name == other }) else { continue }
                if later.priority < info.priority { problems.append("\(other) (priority \(later.priority)) started after \(vm) (priority \(info.priority))") }
            }
            for dependency in info.dependsOn where (first[dependency] ?? -1) > position {
                problems.append("\(vm) started before \(dependency), which it depends on")
            }
        }
        return problems.sorted()
    }

    func verdict(_ text: String, problems: [String]) -> Scenario.Verdict {
        Scenario.Verdict(expectation: text, passed: problems.isEmpty, detail: problems.isEmpty ? "holds" : problems.prefix(6).joined(separator: "; "))
    }
}
