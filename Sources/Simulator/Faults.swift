import Foundation

/// A fault, as data: what happens and when. Declared in a scenario's `faults:`.
public struct FaultRule: Codable, Sendable, Equatable {
    public enum Trigger: Codable, Sendable, Equatable {
        /// From the start of the drill.
        case start
        /// Once this many commands have been answered, over all hosts.
        case afterCommands(Int)
        /// Once every item of this runbook step has finished.
        case afterStep(String)
    }

    public enum Effect: Codable, Sendable, Equatable {
        case hostState(host: String, state: SimHost.State)
        case hostdCrashed(host: String)
        /// The host accepts SSH, its VMs run, but every command hangs (a stuck hostd or storage
        /// stack): the client's timeout ends each one.
        case commandsStall(host: String)
        case datastoreCondition(datastore: String, condition: SimDatastore.Condition)
        case datastoreReturns(datastore: String, afterRescans: Int?, returnsAs: SimDatastore.Condition)
        case vcenterDown
        /// Every command takes `fixed` plus up to `jitter` milliseconds.
        case latency(fixedMilliseconds: Int, jitterMilliseconds: Int)
        /// Commands containing `matching` fail at this rate, like a transient hostd hiccup.
        case randomFailures(rate: Double, matching: String)
        /// The next `times` commands on `host` containing `matching` drop the SSH connection
        /// after taking effect.
        case dropConnection(host: String, matching: String, times: Int)
        /// Power-ons of this VM fail.
        case powerOnFails(vm: String)
        /// The next registervm of this VM drops the client's connection, and the registration
        /// lands on the host `afterCommands` commands later: what a killed run leaves behind.
        case lateRegistration(vm: String, afterCommands: Int)
        /// This host lists the datastore as mounted, but registering a .vmx from it answers NotFound.
        case registrationRefused(host: String, datastore: String)
    }

    public var trigger: Trigger
    public var effect: Effect
    public var fired: Bool

    public init(trigger: Trigger, effect: Effect, fired: Bool = false) {
        self.trigger = trigger
        self.effect = effect
        self.fired = fired
    }
}

extension Fleet {
    /// Whether commands, reads included, still count for what happens next: a fault due after N
    /// commands, a registration landing late, a connection to drop, random failures drawn per
    /// occurrence. Otherwise a read changes nothing worth saving.
    var commandsCount: Bool {
        !(pendingLandings ?? []).isEmpty
            || faults.contains { rule in
                switch (rule.trigger, rule.effect) {
                case (.afterCommands, _) where !rule.fired: return true
                case (_, .randomFailures) where rule.fired: return true
                default: return false
                }
            }
            || hosts.contains { host in host.pendingDrops.values.contains { $0 > 0 } }
    }

    /// Fires the rules whose trigger has come; returns what fired, for the drill's log.
    @discardableResult
    public mutating func fireDueFaults(finishedStep: String? = nil) -> [String] {
        var fired: [String] = []
        for index in faults.indices where !faults[index].fired {
            let due: Bool
            switch faults[index].trigger {
            case .start: due = true
            case .afterCommands(let count): due = commandCount >= count
            case .afterStep(let step): due = step == finishedStep
            }
            guard due else { continue }
            faults[index].fired = true
            apply(faults[index].effect)
            fired.append(describe(faults[index].effect))
        }
        return fired
    }

    mutating func apply(_ effect: FaultRule.Effect) {
        switch effect {
        case .hostState(let host, let state):
            if let index = hostIndex(host) {
                hosts[index].state = state
                // A host that dies takes its running VMs with it.
                if state == .down { for vm in vms.indices where vms[vm].registration?.host == host && vms[vm].power == .on { vms[vm].power = .off } }
            }
        case .hostdCrashed(let host):
            if let index = hostIndex(host) { hosts[index].hostdRunning = false }
        case .commandsStall(let host):
            if let index = hostIndex(host) { hosts[index].commandsStall = true }
        case .datastoreCondition(let datastore, let condition):
            if let index = datastoreIndex(datastore) {
                datastores[index].condition = condition
                // APD leaves VMs running with their I/O stalled; PDL kills them and leaves their
                // registrations invalid.
                if condition == .pdl || condition == .removed {
                    for vm in vms.indices where vms[vm].datastore == datastores[index].name {
                        vms[vm].power = .off
                        if vms[vm].registration != nil { vms[vm].invalid = true }
                    }
                }
            }
        case .datastoreReturns(let datastore, let rescans, let returnsAs):
            if let index = datastoreIndex(datastore) {
                datastores[index].returnsAfterRescans = rescans
                datastores[index].returnsAs = returnsAs
            }
        case .vcenterDown:
            vcenter?.servicesRunning = false
        case .dropConnection(let host, let matching, let times):
            if let index = hostIndex(host) { hosts[index].pendingDrops[matching, default: 0] += times }
        case .powerOnFails(let vm):
            if let index = vmIndex(named: vm) { vms[index].failsToPowerOn = true }
        case .lateRegistration(let vm, let afterCommands):
            if let index = vmIndex(named: vm) { vms[index].registersLateAfter = afterCommands }
        case .registrationRefused(let host, let datastore):
            if let index = hostIndex(host) { hosts[index].refusesRegistrationFrom = (hosts[index].refusesRegistrationFrom ?? []) + [datastore] }
        case .latency, .randomFailures:
            break  // read when each command runs
        }
    }

    public func describe(_ effect: FaultRule.Effect) -> String {
        switch effect {
        case .hostState(let host, let state): return "host \(host) is \(state.rawValue)"
        case .hostdCrashed(let host): return "hostd crashed on \(host)"
        case .commandsStall(let host): return "host \(host) accepts SSH but its commands hang"
        case .datastoreCondition(let datastore, let condition): return "datastore \(datastore) is \(condition.rawValue)"
        case .datastoreReturns(let datastore, let rescans, let returnsAs):
            return "datastore \(datastore) returns " + (rescans.map { "after \($0) rescans as \(returnsAs.rawValue)" } ?? "never")
        case .vcenterDown: return "vCenter services stopped"
        case .latency(let fixed, let jitter): return "latency \(fixed)ms + up to \(jitter)ms"
        case .randomFailures(let rate, let matching): return "\(Int(rate * 100))% of '\(matching)' fail"
        case .dropConnection(let host, let matching, let times): return "next \(times) '\(matching)' on \(host) drop the connection"
        case .powerOnFails(let vm): return "power-on of \(vm) fails"
        case .registrationRefused(let host, let datastore): return "\(host) refuses registrations from \(datastore)"
        case .lateRegistration(let vm, let afterCommands): return "the next registration of \(vm) drops its client and lands \(afterCommands) commands later"
        }
    }

    /// The latency rule in force, if any.
    var latency: (fixed: Int, jitter: Int)? {
        for rule in faults.reversed() where rule.fired {
            if case .latency(let fixed, let jitter) = rule.effect { return (fixed, jitter) }
        }
        return nil
    }

    var randomFailureRules: [(rate: Double, matching: String)] {
        faults.filter(\.fired).compactMap { rule in
            if case .randomFailures(let rate, let matching) = rule.effect { return (rate, matching) }
            return nil
        }
    }
}

/// Randomness that depends only on the seed and what is asked, never on timing: the same
/// scenario and seed give the same answers however commands interleave.
enum SeededRandom {
    /// A number in [0, 1) for this seed and key.
    static func unit(seed: UInt64, key: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        // SplitMix64 finaliser spreads the bits.
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Double(hash >> 11) / Double(1 << 53)
    }

    /// A deterministic UUID-like id (`5f8b4c97-234dcc30-d982-54ea7418ec3f`, the VMFS form).
    static func vmfsUUID(seed: UInt64, key: String) -> String {
        let parts = (0..<4).map { part in
            String(UInt64(unit(seed: seed, key: "\(key)/\(part)") * Double(UInt64(1) << 48)), radix: 16)
        }
        func hex(_ text: String, _ width: Int) -> String { String(String(repeating: "0", count: max(0, width - text.count)) + text).suffix(width).description }
        return "\(hex(parts[0], 8))-\(hex(parts[1], 8))-\(hex(parts[2], 4))-\(hex(parts[3], 12))"
    }
}
