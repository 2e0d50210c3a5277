import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// A site as a real run found it, rebuilt from the outputs of the reads it recorded: which hosts
/// answered (and which never did), their versions and memory, the datastores each one mounted,
/// the VMs each one ran, and the `.vmx` files registered nowhere. `drctl sim from-run` writes it
/// as a scenario, so the next drill runs against the site as it really was.
///
/// Each read's first answer is used: the site as discovered, before the run changed it.
public struct RecordedSite {
    /// One recorded command and what it printed.
    public struct Output: Sendable {
        public var host: String
        public var command: String
        public var stdout: String
        public var exitStatus: Int

        public init(host: String, command: String, stdout: String, exitStatus: Int) {
            self.host = host
            self.command = command
            self.stdout = stdout
            self.exitStatus = exitStatus
        }
    }

    public var hosts: [SimHost] = []
    public var datastores: [SimDatastore] = []
    public var vms: [SimVM] = []
    /// What could not be read back, for the operator (a torn output, an unknown layout).
    public var notes: [String] = []

    public init(outputs: [Output], inventory: Inventory, seed: UInt64) {
        var first: [String: Output] = [:]
        var hostOrder: [String] = []
        for output in outputs where output.exitStatus == 0 {
            if !hostOrder.contains(output.host) { hostOrder.append(output.host) }
            let key = "\(output.host)\u{1}\(output.command)"
            if first[key] == nil { first[key] = output }
        }
        func read(_ host: String, _ command: String) -> String? { first["\(host)\u{1}\(command)"]?.stdout }
        func reads(_ host: String, where matches: (String) -> Bool) -> [Output] {
            first.values.filter { $0.host == host && matches($0.command) }.sorted { $0.command < $1.command }
        }

        let esxi = inventory.hosts.filter { $0.role == .esxi }
        let names = esxi.map(\.name) + hostOrder.filter { name in !inventory.hosts.contains { $0.name == name } }
        var mounts: [String: [MountedFilesystem]] = [:]
        var labels: [String: String] = [:]  // uuid -> label
        for (index, name) in names.enumerated() {
            let entry = esxi.first { $0.name == name }
            let answered = hostOrder.contains(name)
            var host = SimHost(name: name, version: "8.0.3", build: "24585383", address: entry?.address ?? "10.10.0.\(11 + index)",
                               state: answered ? .up : .down, hostdRunning: true, vpxaRunning: true, maintenanceMode: false,
                               memoryMB: entry?.memoryMB ?? InventorySite.assumedHostMemoryMB, cpuCores: 32,
                               vmks: (entry?.interfaces ?? []).map { SimHost.Vmk(name: $0.name, address: $0.address, portgroup: InventorySite.portgroup($0.purpose),
                                                                                   mtu: 1500, mac: "00:50:56:00:00:00") },
                               nextVmid: 1, nextQuestionID: 79_900)
            if let text = read(name, ESXiCommand.versionGet), let version = try? VersionParser.parse(text) {
                host.version = version.version
                host.build = version.build
            }
            if let text = read(name, ESXiCommand.hostSummary), let summary = try? HostSummaryParser.parse(text) {
                host.memoryMB = summary.memoryMB
                host.cpuCores = summary.cpuCores
                host.maintenanceMode = summary.inMaintenanceMode
            }
            if let text = read(name, ESXiCommand.filesystemList) {
                do {
                    mounts[name] = try FilesystemListParser.parse(text).filter { $0.mounted && ($0.type.hasPrefix("VMFS") && $0.type != "VMFSOS" || $0.type.hasPrefix("NFS")) }
                    for filesystem in mounts[name]! { labels[filesystem.uuid] = filesystem.volumeName }
                } catch {
                    notes.append("\(name): its storage filesystem list could not be read back: \(error)")
                }
            }
            hosts.append(host)
        }

        // Datastores: every volume any host mounted, with the hosts that mounted it; hosts that
        // never answered see what the inventory's zoning says (or every shared datastore).
        var volumes: [String: MountedFilesystem] = [:]
        var volumeOrder: [String] = []
        for name in names { for filesystem in mounts[name] ?? [] where volumes[filesystem.volumeName] == nil {
            volumes[filesystem.volumeName] = filesystem
            volumeOrder.append(filesystem.volumeName)
        } }
        for datastore in inventory.datastores where volumes[datastore.name] == nil { volumeOrder.append(datastore.name) }
        let silent = hosts.filter { $0.state == .down }.map(\.name)
        for label in volumeOrder {
            let zoning = inventory.datastores.first { $0.name == label }
            var seenBy = names.filter { mounts[$0]?.contains { $0.volumeName == label } == true }
            seenBy += silent.filter { host in zoning?.hosts?.contains(host) ?? (zoning?.shared != false) }
            let volume = volumes[label]
            let uuid = volume?.uuid ?? zoning?.uuid ?? SeededRandom.vmfsUUID(seed: seed, key: "datastore/\(label)")
            datastores.append(SimDatastore(name: label, uuid: uuid, type: volume?.type ?? "VMFS-6", capacityBytes: volume?.size ?? 4 << 40,
                                           freeBytes: volume?.free ?? 2 << 40, hosts: seenBy, condition: .ok, returnsAfterRescans: nil, returnsAs: .ok,
                                           deviceID: "naa.6006016" + uuid.replacingOccurrences(of: "-", with: "").prefix(25)))
        }

        // VMs each host ran, then .vmx files registered nowhere (a failed host's VMs).
        var seen = Set<String>()
        for name in names {
            guard let text = read(name, ESXiCommand.getAllVMs), let listing = try? GetAllVMsParser.parse(text) else { continue }
            let running = read(name, ESXiCommand.processList).flatMap { try? EsxcliRecords.parse($0).compactMap { $0.fields["Config File"] } }
            for row in listing.vms {
                guard let path = DatastorePath(row.file)?.normalized(labels: labels), seen.insert(path.description).inserted else { continue }
                let power = Self.powerState(of: row, host: name, running: running, reads: reads(name) { $0 == ESXiCommand.powerState(vmid: row.vmid) })
                vms.append(vm(named: HostdName.decode(row.name), at: path, host: name, power: power, guestOS: row.guestOS, version: row.version,
                              inventory: inventory))
            }
        }
        for name in names {
            let displayNames = reads(name) { $0.hasPrefix("grep -H -i ") }.reduce(into: [String: String]()) { names, output in
                names.merge(DisplayNameParser.parse(output.stdout)) { first, _ in first }
            }
            for output in reads(name, where: { $0.hasPrefix("find /vmfs/volumes/") || $0.hasPrefix("find '/vmfs/volumes/") }) {
                // Each printed path names its datastore (by label or UUID).
                let files = output.stdout.split(separator: "\n").compactMap { line in DatastorePath(String(line)) }
                    .flatMap { VMXFileListParser.parse($0.absolutePath, datastore: labels[$0.datastore] ?? $0.datastore) }
                for file in files {
                    let path = file.normalized(labels: labels)
                    guard seen.insert(path.description).inserted else { continue }
                    let known = inventory.vms.first { vm in vm.vmx.flatMap(DatastorePath.init)?.normalized(labels: labels) == path }
                    let display = displayNames.first { DatastorePath($0.key)?.normalized(labels: labels) == path }?.value
                    let vmName = known?.name ?? display ?? path.folder
                    // Registered nowhere that answered: on its last host if that one never answered, else files only.
                    let owner = inventory.vms.first { $0.name == vmName }?.host.flatMap { silent.contains($0) ? $0 : nil }
                    vms.append(vm(named: vmName, at: path, host: owner, power: owner != nil ? .on : .off, guestOS: "", version: "", inventory: inventory))
                }
            }
        }
        addUnseen(from: inventory, silent: silent, seen: &seen, labels: labels)
        let unversioned = hosts.filter { read($0.name, ESXiCommand.versionGet) == nil }.map(\.name)
        if !unversioned.isEmpty {
            notes.append("the run did not read the ESXi version of \(unversioned.joined(separator: ", ")): 8.0.3 assumed; edit the scenario if they run another")
        }
    }

    /// VMs of hosts that never answered, on datastores no host that answered could read: known
    /// from the inventory only (a failed host's local disk).
    mutating func addUnseen(from inventory: Inventory, silent: [String], seen: inout Set<String>, labels: [String: String]) {
        for known in inventory.vms where silent.contains(known.host ?? "") && !vms.contains(where: { $0.name == known.name }) {
            let path = known.vmx.flatMap(DatastorePath.init)?.normalized(labels: labels)
                ?? DatastorePath(datastore: known.datastore ?? datastores.first?.name ?? "datastore1", relativePath: "\(known.name)/\(known.name).vmx")
            guard seen.insert(path.description).inserted, datastores.contains(where: { $0.name == path.datastore }) else { continue }
            vms.append(vm(named: known.name, at: path, host: known.host, power: known.powerOn ? .on : .off, guestOS: "", version: "", inventory: inventory))
            notes.append("\(known.name): taken from the inventory (its host \(known.host!) never answered and no host that answered could read \(path.datastore))")
        }
    }

    /// From `power.getstate` if the run read it, else from `esxcli vm process list`, else on.
    static func powerState(of row: RegisteredVM, host: String, running: [String]?, reads: [Output]) -> SimVM.Power {
        if let state = reads.first.flatMap({ try? PowerStateParser.parse($0.stdout) }) { return state == .poweredOn ? .on : .off }
        guard let running else { return .on }
        let file = DatastorePath(row.file)
        return running.contains { DatastorePath($0)?.relativePath == file?.relativePath } ? .on : .off
    }

    func vm(named name: String, at path: DatastorePath, host: String?, power: SimVM.Power, guestOS: String, version: String, inventory: Inventory) -> SimVM {
        let known = inventory.vms.first { $0.name == name }
        var vm = SimVM(name: name, datastore: path.datastore, path: path.relativePath, guestOS: guestOS.isEmpty ? known?.guestOS ?? "otherLinux64Guest" : guestOS,
                       hardwareVersion: version.isEmpty ? "vmx-19" : version, memoryMB: known?.memoryMB ?? InventorySite.assumedVMMemoryMB, annotation: "",
                       isTemplate: false, registration: host.map { SimVM.Registration(host: $0, vmid: 0) }, power: host == nil ? .off : power,
                       owner: host, question: nil, priority: known?.priority ?? 3, dependsOn: known?.dependsOn ?? [], failsToPowerOn: false)
        vm.antiAffinity = known?.antiAffinity
        vm.keepOff = known.map { $0.powerOn ? nil : true } ?? nil
        vm.hasTools = known?.tools
        return vm
    }
}
