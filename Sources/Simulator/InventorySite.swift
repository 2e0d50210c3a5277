import DrctlCore
import Foundation
import RunbookFormat

/// A simulated site built from an inventory, with one failure applied: what `drctl whatif` runs
/// the matching runbook against. What the inventory does not say is assumed, and the assumptions
/// are listed in docs/cli.md: hosts of 256 GB, VMs of 4 GB, Linux guests with VMware Tools.
public enum InventorySite {
    public enum Failure: Sendable, Hashable, CustomStringConvertible {
        case host(String)
        case datastore(String)
        /// The vCenter appliance's VM crashed and is off.
        case vcenter(appliance: String)

        public var description: String {
            switch self {
            case .host(let name): "host \(name) fails"
            case .datastore(let name): "datastore \(name) is lost (its LUN comes back at the first rescan)"
            case .vcenter(let vm): "vCenter fails (its appliance \(vm) is off)"
            }
        }
    }

    public static let assumedHostMemoryMB = 262_144
    public static let assumedVMMemoryMB = 4_096

    /// `site`: the fleet to fail, when known better than the inventory says (`--discover`).
    public static func scenario(from inventory: Inventory, failing failure: Failure, seed: UInt64, durations: CommandDurations = .defaults,
                                site: Fleet? = nil) -> Scenario {
        var fleet = site ?? fleet(from: inventory, seed: seed)
        switch failure {
        case .host(let name): fleet.apply(.hostState(host: name, state: .down))
        case .datastore(let name):
            if let index = fleet.datastoreIndex(name) {
                fleet.datastores[index].returnsAfterRescans = 1
                fleet.datastores[index].returnsAs = .ok
            }
            fleet.apply(.datastoreCondition(datastore: name, condition: .apd))
        case .vcenter(let vm):
            if let index = fleet.vmIndex(named: vm) { fleet.vms[index].power = .off }
            fleet.vcenter?.servicesRunning = false
        }
        var scenario = Scenario(name: "what if \(failure)", description: "built from \(inventory.file)", file: inventory.file, fleet: fleet,
                                expectations: [], inventory: inventory)
        scenario.durations = durations
        return scenario
    }

    /// The site as the inventory describes it, everything running as it should.
    public static func fleet(from inventory: Inventory, seed: UInt64) -> Fleet {
        let esxi = inventory.hosts.filter { $0.role == .esxi }
        let hosts = esxi.map { host in
            SimHost(name: host.name, version: "8.0.3", build: "24585383", address: host.address, state: .up, hostdRunning: true, vpxaRunning: true,
                    maintenanceMode: false, memoryMB: host.memoryMB ?? assumedHostMemoryMB, cpuCores: 32,
                    vmks: host.interfaces.enumerated().map { index, interface in
                        SimHost.Vmk(name: interface.name, address: interface.address, portgroup: portgroup(interface.purpose), mtu: 1500,
                                    mac: String(format: "00:50:56:%02x:%02x:%02x", index, interface.address.count, host.name.count % 256))
                    },
                    nextVmid: 1, nextQuestionID: 79_900)
        }
        let hostNames = esxi.map(\.name)
        func datastore(_ name: String, uuid: String?, hosts: [String]) -> SimDatastore {
            let uuid = uuid ?? SeededRandom.vmfsUUID(seed: seed, key: "datastore/\(name)")
            return SimDatastore(name: name, uuid: uuid, type: "VMFS-6", capacityBytes: 4 << 40, freeBytes: 2 << 40, hosts: hosts, condition: .ok,
                                returnsAfterRescans: nil, returnsAs: .ok, deviceID: "naa.6006016" + uuid.replacingOccurrences(of: "-", with: "").prefix(25))
        }
        var datastores = inventory.datastores.map { datastore($0.name, uuid: $0.uuid, hosts: $0.hosts ?? hostNames) }
        var vms: [SimVM] = []
        for entry in inventory.vms {
            let (datastoreName, path) = location(of: entry, datastores: datastores)
            if datastores.first(where: { $0.name == datastoreName }) == nil {
                datastores.append(datastore(datastoreName, uuid: nil, hosts: hostNames))
            }
            var vm = SimVM(name: entry.name, datastore: datastoreName, path: path, guestOS: entry.guestOS ?? "otherLinux64Guest", hardwareVersion: "vmx-19",
                           memoryMB: entry.memoryMB ?? assumedVMMemoryMB, annotation: "", isTemplate: false, registration: nil,
                           power: entry.powerOn ? .on : .off, owner: entry.host, question: nil, priority: entry.priority, dependsOn: entry.dependsOn,
                           failsToPowerOn: false)
            if let host = entry.host, hostNames.contains(host) { vm.registration = SimVM.Registration(host: host, vmid: 0) } else { vm.power = .off }
            vm.antiAffinity = entry.antiAffinity
            vm.keepOff = entry.powerOn ? nil : true
            vm.hasTools = entry.tools
            vms.append(vm)
        }
        var fleet = Fleet(hosts: hosts, datastores: datastores, vms: vms, vcenter: nil, faults: [], seed: seed)
        fleet.numberRegistrations()
        return fleet
    }

    /// Adds the appliance: the inventory's `vcsa` host, answered by the VM `appliance`.
    public static func withAppliance(_ fleet: Fleet, inventory: Inventory, appliance: String) -> Fleet {
        var fleet = fleet
        guard fleet.vcenter == nil else { return fleet }
        guard let host = inventory.hosts.first(where: { $0.role == .vcsa }) else { return fleet }
        fleet.vcenter = SimVCenter(vm: appliance, hostName: host.name, address: host.address, servicesRunning: true, servicesStartOnBoot: true)
        return fleet
    }

    /// `[ds] dir/x.vmx`, `/vmfs/volumes/<name or uuid>/dir/x.vmx`, or the VM's datastore and `name/name.vmx`.
    static func location(of vm: Inventory.VM, datastores: [SimDatastore]) -> (datastore: String, path: String) {
        let fallback = (vm.datastore ?? datastores.first?.name ?? "datastore1", "\(vm.name)/\(vm.name).vmx")
        guard let vmx = vm.vmx else { return fallback }
        if vmx.hasPrefix("["), let close = vmx.firstIndex(of: "]") {
            let name = String(vmx[vmx.index(after: vmx.startIndex)..<close])
            return (name, vmx[vmx.index(after: close)...].trimmingBlanks())
        }
        let prefix = "/vmfs/volumes/"
        if vmx.hasPrefix(prefix) {
            let parts = vmx.dropFirst(prefix.count).split(separator: "/", maxSplits: 1)
            if parts.count == 2 {
                let label = String(parts[0])
                let name = datastores.first { $0.uuid == label }?.name ?? label
                return (name, String(parts[1]))
            }
        }
        return fallback
    }

    static func portgroup(_ purpose: String) -> String {
        switch purpose {
        case "storage": "Storage"
        case "vmotion": "vMotion"
        default: "Management Network"
        }
    }
}
