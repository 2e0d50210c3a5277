import Foundation

/// The whole simulated world: hosts, datastores, VMs and vCenter, plus what the faults and the
/// crash tests need to know. It is a value, saved as JSON in a state file by `drctl sim exec`.
public struct Fleet: Codable, Sendable, Equatable {
    public var hosts: [SimHost]
    public var datastores: [SimDatastore]
    public var vms: [SimVM]
    public var vcenter: SimVCenter?
    public var faults: [FaultRule]
    public var seed: UInt64
    /// Commands answered so far, over all hosts (drives `after_commands` faults).
    public var commandCount = 0
    /// How often each host answered each command: the key of seeded randomness, so answers do
    /// not depend on how concurrent commands interleave.
    public var occurrences: [String: Int] = [:]
    /// Every command that changed state, as `host: command`, in order (crash tests read it).
    public var changeLog: [String] = []
    /// Registrations accepted by a host whose client never heard back, landing later.
    public var pendingLandings: [Landing]?
    /// How long commands, boots and guests take: set only in virtual time, where they cost no
    /// wall time (a drill in real time would sit through minutes of boots). Nil: no durations.
    public var timing: CommandDurations?
    /// The simulator's time, in milliseconds since the drill started (drives boots and guests).
    public var now = 0
    /// The last change of the state file's log this fleet includes (see `StateFile`).
    public var stateSequence: Int?

    /// Applies a logged change as the simulator first did.
    mutating func replay(_ change: StateFile.Change) {
        advance(to: change.at)
        if let host = change.host, let command = change.command {
            _ = Interpreter.run(command, on: host, fleet: &self)
            fireDueFaults()
        } else if let step = change.finishedStep {
            fireDueFaults(finishedStep: step)
        }
        stateSequence = change.sequence
    }

    public struct Landing: Codable, Sendable, Equatable {
        public var vm: String
        public var host: String
        public var vmid: Int
        /// Lands once `commandCount` reaches this.
        public var due: Int
    }

    /// Lands the registrations that are due, unless the VM was registered there meanwhile.
    mutating func landDueRegistrations() {
        guard let pending = pendingLandings, !pending.isEmpty else { return }
        pendingLandings = pending.filter { $0.due > commandCount }
        for landing in pending where landing.due <= commandCount {
            guard let index = vmIndex(named: landing.vm), vms[index].registration?.host != landing.host else { continue }
            vms[index].registration = SimVM.Registration(host: landing.host, vmid: landing.vmid)
            changeLog.append("\(landing.host): registervm \(landing.vm) (landed late)")
        }
    }

    public init(hosts: [SimHost], datastores: [SimDatastore], vms: [SimVM], vcenter: SimVCenter?, faults: [FaultRule], seed: UInt64) {
        self.hosts = hosts
        self.datastores = datastores
        self.vms = vms
        self.vcenter = vcenter
        self.faults = faults
        self.seed = seed
    }

    public func hostIndex(_ name: String) -> Int? { hosts.firstIndex { $0.name == name } }
    public func datastoreIndex(_ name: String) -> Int? { datastores.firstIndex { $0.name == name || $0.uuid == name } }
    public func vmIndex(named name: String) -> Int? { vms.firstIndex { $0.name == name } }

    /// The VMs registered on `host`, by vmid. Read in place: a loop over `vms` copies each VM,
    /// and on a 2,000-VM site that copying was most of what a getallvms cost.
    public func registeredIndices(on host: String) -> [Int] {
        var found: [(vmid: Int, index: Int)] = []
        for index in vms.indices where vms[index].registration?.host == host {
            found.append((vms[index].registration!.vmid, index))
        }
        return found.sorted { $0.vmid < $1.vmid }.map(\.index)
    }

    /// The VM registered on `host` under `vmid`.
    public func vmIndex(host: String, vmid: Int) -> Int? {
        // The vmid first: an integer compare rules out nearly every VM before any name is compared.
        vms.firstIndex { $0.registration?.vmid == vmid && $0.registration?.host == host }
    }

    /// Whether the host can read the datastore's files right now.
    public func datastoreAccessible(_ name: String, from host: String) -> Bool {
        guard let index = datastoreIndex(name) else { return false }
        return datastores[index].isMounted(on: host)
    }

    /// Gives registered VMs vmids 1, 2, ... per host, in scenario order.
    public mutating func numberRegistrations() {
        for index in vms.indices {
            guard let host = vms[index].registration?.host, let hostIndex = hostIndex(host) else { continue }
            vms[index].registration?.vmid = hosts[hostIndex].nextVmid
            hosts[hostIndex].nextVmid += 1
        }
    }

    /// Moves the fleet's time on: appliances that finished booting answer, their services start.
    public mutating func advance(to milliseconds: Int) {
        now = max(now, milliseconds)
        guard var vcenter else { return }
        if let until = vcenter.bootingUntil, now >= until {
            vcenter.bootingUntil = nil
            if vcenter.servicesStartOnBoot != false, let timing {
                vcenter.servicesStartAt = until + timing.time(of: .vcsaServicesStart, seed: seed, key: "boot/\(vcenter.vm)/\(until)")
            }
        }
        if let start = vcenter.servicesStartAt, now >= start {
            vcenter.servicesStartAt = nil
            vcenter.servicesRunning = true
        }
        self.vcenter = vcenter
    }

    /// Whether the guest of a running VM has started VMware Tools by now.
    public func toolsRunning(_ vm: SimVM) -> Bool {
        guard vm.power == .on, vm.hasTools != false else { return false }
        let boot = timing?.guestBoot(of: vm, seed: seed) ?? 0
        return now >= (vm.poweredOnAt ?? 0) + boot
    }

    /// Memory of powered-on VMs on a host, in MB.
    public func memoryInUse(on host: String) -> Int {
        registeredIndices(on: host).reduce(0) { $0 + (vms[$1].power == .on ? vms[$1].memoryMB : 0) }
    }

    /// Memory the running VMs of a host have reserved: what admission control cannot give again.
    public func memoryReserved(on host: String) -> Int {
        registeredIndices(on: host).reduce(0) { $0 + (vms[$1].power == .on ? vms[$1].memoryReservationMB ?? 0 : 0) }
    }
}

public struct SimHost: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case up, down, hung
    }

    public struct Vmk: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
        public var portgroup: String
        public var mtu: Int
        public var mac: String
    }

    public var name: String
    public var version: String
    public var build: String
    public var address: String
    public var state: State
    public var hostdRunning: Bool
    /// Accepts SSH, but every command hangs until the client gives up (`commands_stall`).
    public var commandsStall: Bool?
    public var vpxaRunning: Bool
    public var maintenanceMode: Bool
    public var memoryMB: Int
    public var cpuCores: Int
    public var vmks: [Vmk]
    public var nextVmid: Int
    public var nextQuestionID: Int
    /// Storage adapters a rescan walks (`vmhba0`, `vmhba64`...): a rescan takes longer with more.
    public var storageAdapters: Int?
    /// Datastores this host lists as mounted but cannot open files on: registervm answers NotFound.
    public var refusesRegistrationFrom: [String]?
    /// Commands that drop the SSH connection the next N times they run: `fragment -> times`.
    public var pendingDrops: [String: Int] = [:]

    /// Major version number, to pick version-specific wording.
    public var major: Int { Int(version.split(separator: ".").first ?? "8") ?? 8 }
}

public struct SimDatastore: Codable, Sendable, Equatable {
    public enum Condition: String, Codable, Sendable, CaseIterable {
        case ok
        /// All paths down: the LUN may come back.
        case apd = "APD"
        /// Permanent device loss.
        case pdl = "PDL"
        /// Permanent device loss, and the device is gone: no host lists the volume any more.
        case removed
        case unmounted
        /// The LUN came back as an unresolved VMFS copy that must be mounted.
        case snapshot
    }

    public var name: String
    public var uuid: String
    public var type: String
    public var capacityBytes: Int64
    public var freeBytes: Int64
    public var hosts: [String]
    public var condition: Condition
    /// With APD/PDL: the LUN comes back after this many rescans (nil: never).
    public var returnsAfterRescans: Int?
    /// What it comes back as: `ok` (mounted by the rescan) or `snapshot` (must be mounted).
    public var returnsAs: Condition
    public var deviceID: String
    /// Hosts that mounted the unresolved copy (each host mounts it for itself).
    public var snapshotMountedOn: [String] = []
    /// What the site's inventory says of it (nil: listed with its zoning).
    public var inInventory: InventoryEntry?

    /// `in_inventory:` in a scenario: how much a drill's inventory knows of the datastore.
    public enum InventoryEntry: String, Codable, Sendable, CaseIterable {
        /// Listed with the hosts it is presented to.
        case zoned
        /// Listed as shared, without its hosts: the runbooks must presume.
        case unzoned
        /// Not listed at all: only the hosts that list it can tell.
        case absent
    }

    public func isMounted(on host: String) -> Bool {
        hosts.contains(host) && (condition == .ok || (condition == .snapshot && snapshotMountedOn.contains(host)))
    }

    /// An unresolved copy this host has not mounted yet.
    public func isUnresolvedSnapshot(on host: String) -> Bool {
        condition == .snapshot && hosts.contains(host) && !snapshotMountedOn.contains(host)
    }
    public var isShared: Bool { hosts.count > 1 }
    /// Its LUN is lost for good until the array presents it again: its VMs died.
    public var isLost: Bool { condition == .pdl || condition == .removed }
}

public struct SimVM: Codable, Sendable, Equatable {
    public enum Power: String, Codable, Sendable {
        case on, off, suspended
    }

    public struct Registration: Codable, Sendable, Equatable {
        public var host: String
        public var vmid: Int
    }

    public struct Question: Codable, Sendable, Equatable {
        public var id: String
        public var key: String
    }

    public var name: String
    public var datastore: String
    /// Path inside the datastore: `db-01/db-01.vmx` (`.vmtx` for templates).
    public var path: String
    public var guestOS: String
    public var hardwareVersion: String
    public var memoryMB: Int
    /// Memory ESXi must back physically before powering it on (admission control).
    public var memoryReservationMB: Int?
    public var annotation: String
    public var isTemplate: Bool
    public var registration: Registration?
    public var power: Power
    /// The host whose inventory last owned the files: registering elsewhere makes the next
    /// power-on ask msg.uuid.altered.
    public var owner: String?
    public var question: Question?
    /// Recovery metadata carried into the drill's inventory.
    public var priority: Int
    public var dependsOn: [String]
    /// A power-on of this VM fails (fault injection).
    public var failsToPowerOn: Bool
    /// Its next registration drops the client and lands this many commands later (fault injection).
    public var registersLateAfter: Int?
    /// Its registration points at files that were lost (PDL): hostd skips it as invalid.
    public var invalid = false
    /// Decommissioned by hand long ago: its files are gone from its datastore for good, its
    /// registration (invalid) is still there. No recovery of anything else may touch it.
    public var filesGone: Bool?
    /// False: the site's inventory does not list it (created or renamed since it was written).
    public var inInventory: Bool?
    /// Recovery metadata: VMs of one group are kept on different hosts.
    public var antiAffinity: String?
    /// How the drill's inventory names its .vmx: `path` (`[ds] dir/x.vmx`, the default), `uuid`
    /// (`/vmfs/volumes/<uuid>/dir/x.vmx`, as exported from vCenter) or `none` (not recorded).
    public var inventoryVMX: String?
    /// Whether recovery should leave it powered off (the inventory's `power_on: false`).
    public var keepOff: Bool?
    /// False: no VMware Tools in the guest (get.guest says toolsNotInstalled). Nil: installed.
    public var hasTools: Bool?
    /// Its own guest boot time until Tools run, instead of its guest family's.
    public var bootMilliseconds: Int?
    /// When it was last powered on, in the fleet's time.
    public var poweredOnAt: Int?

    public var datastorePath: String { "[\(datastore)] \(path)" }
    public var absolutePath: String { "/vmfs/volumes/\(datastore)/\(path)" }
    public var folder: String { String(path.split(separator: "/").dropLast().joined(separator: "/")) }
}

/// vCenter Server Appliance: a VM in the fleet, answering as its own host when running.
public struct SimVCenter: Codable, Sendable, Equatable {
    /// The appliance VM's name in the fleet.
    public var vm: String
    /// The inventory host name (role vcsa) drills use to reach it.
    public var hostName: String
    public var address: String
    public var servicesRunning: Bool
    /// After a power-on, this many commands fail (exit 255) while the appliance boots: it accepts
    /// SSH before its services can answer. Nil or 0: ready at once.
    public var bootCommands: Int?
    /// Commands left before the booting appliance is ready.
    public var bootingCommandsLeft: Int?
    /// Whether vMon starts the automatic services at boot (true unless the scenario says stopped).
    public var servicesStartOnBoot: Bool?
    /// Services of this appliance set to start by hand beyond the usual ones (vmware-mbcs,
    /// vsan-dps on some builds): always stopped, even when all is well.
    public var moreManualServices: [String]?

    /// In virtual time: the appliance boots until this time, then its services take a while.
    public var bootingUntil: Int?
    public var servicesStartAt: Int?

    public var isBooting: Bool { (bootingCommandsLeft ?? 0) > 0 || bootingUntil != nil }
}
