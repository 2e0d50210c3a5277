import Foundation

/// `esxcli`: storage, system and network namespaces used by DR procedures.
enum Esxcli {
    static func run(_ arguments: [String], on host: String, fleet: inout Fleet) -> CommandOutput {
        guard let hostIndex = fleet.hostIndex(host) else { return .failure("-sh: esxcli: not found\n", exit: 127) }
        guard fleet.hosts[hostIndex].hostdRunning else { return .failure("Connect to localhost failed: Connection failure.\n") }
        let words = arguments.filter { !$0.hasPrefix("--formatter") }
        let path = words.prefix { !$0.hasPrefix("-") }.joined(separator: " ")
        let options = Array(words.drop { !$0.hasPrefix("-") })
        switch path {
        case "storage core adapter rescan":
            guard options.contains("--all") || options.contains("-A") else { return .failure("Error: Missing required parameter -a|--adapter or -A|--all\n") }
            return rescan(on: host, fleet: &fleet)
        case "storage filesystem list": return filesystemList(on: host, fleet: fleet)
        case "vm process list": return processList(on: host, fleet: fleet)
        case "storage core path list": return pathList(on: host, fleet: fleet)
        case "storage core device list": return deviceList(on: host, fleet: fleet)
        case "storage vmfs snapshot list": return snapshotList(on: host, fleet: fleet)
        case "storage vmfs snapshot mount": return snapshotMount(options, on: host, fleet: &fleet)
        case "storage vmfs snapshot resignature":
            return .failure("Error: drctl's simulator does not resignature volumes; mount the copy with snapshot mount instead.\n")
        case "system maintenanceMode get": return .text(fleet.hosts[hostIndex].maintenanceMode ? "Enabled\n" : "Disabled\n")
        case "system maintenanceMode set": return setMaintenance(options, hostIndex: hostIndex, fleet: &fleet)
        case "system version get": return version(fleet.hosts[hostIndex])
        case "network ip interface list": return interfaces(fleet.hosts[hostIndex])
        case "network nic list": return nics(fleet.hosts[hostIndex])
        default:
            return .failure("Error: Unknown command or namespace \(path)\n")
        }
    }

    static func visibleDatastores(_ host: String, _ fleet: Fleet) -> [SimDatastore] {
        fleet.datastores.filter { $0.hosts.contains(host) }
    }

    /// A rescan brings back LUNs that were due to return: mounted, or as an unresolved copy.
    static func rescan(on host: String, fleet: inout Fleet) -> CommandOutput {
        for index in fleet.datastores.indices where fleet.datastores[index].hosts.contains(host) {
            guard let remaining = fleet.datastores[index].returnsAfterRescans else { continue }
            if remaining <= 1 {
                fleet.datastores[index].condition = fleet.datastores[index].returnsAs
                fleet.datastores[index].returnsAfterRescans = nil
            } else {
                fleet.datastores[index].returnsAfterRescans = remaining - 1
            }
        }
        fleet.changeLog.append("\(host): rescan")
        return .text("")
    }

    /// The running VMs, by their config file's UUID path, as `esxcli vm process list` prints them.
    static func processList(on host: String, fleet: Fleet) -> CommandOutput {
        let running = fleet.registeredIndices(on: host).sorted().map { fleet.vms[$0] }.filter { $0.power == .on && !$0.invalid }
        let records = running.enumerated().map { index, vm -> String in
            let world = 2_100_000 + index * 17 + (vm.registration?.vmid ?? 0)
            let uuid = fleet.datastores.first { $0.name == vm.datastore }?.uuid ?? vm.datastore
            return "\(vm.name)\n   World ID: \(world)\n   Process ID: 0\n   VMX Cartel ID: \(world - 1)\n"
                + "   UUID: \(SeededRandom.vmfsUUID(seed: fleet.seed, key: "vm/\(vm.name)"))\n"
                + "   Display Name: \(vm.name)\n   Config File: /vmfs/volumes/\(uuid)/\(vm.path)\n"
        }
        return .text(records.joined(separator: "\n"))
    }

    static func filesystemList(on host: String, fleet: Fleet) -> CommandOutput {
        let columns: [Render.Column] = [.init(header: "Mount Point", rightAligned: false), .init(header: "Volume Name", rightAligned: false),
                                        .init(header: "UUID", rightAligned: false), .init(header: "Mounted", rightAligned: true),
                                        .init(header: "Type", rightAligned: false), .init(header: "Size", rightAligned: true),
                                        .init(header: "Free", rightAligned: true)]
        var rows = visibleDatastores(host, fleet).filter { !$0.isUnresolvedSnapshot(on: host) && $0.condition != .removed }.map { datastore in
            let mounted = datastore.isMounted(on: host)
            return ["/vmfs/volumes/\(datastore.uuid)", datastore.name, datastore.uuid, mounted ? "true" : "false",
                    datastore.type, String(datastore.capacityBytes), String(mounted ? datastore.freeBytes : 0)]
        }
        let bootbank = SeededRandom.vmfsUUID(seed: fleet.seed, key: "bootbank/\(host)")
        rows.append(["/vmfs/volumes/\(bootbank)", "BOOTBANK1", bootbank, "true", "vfat", "4293591040", "3975413760"])
        return .text(Render.esxcliTable(columns, rows))
    }

    static func lunNumber(_ datastore: SimDatastore, _ fleet: Fleet) -> Int {
        fleet.datastores.firstIndex(of: datastore).map { $0 + 1 } ?? 0
    }

    static func pathList(on host: String, fleet: Fleet) -> CommandOutput {
        let records = visibleDatastores(host, fleet).map { datastore -> (key: String, fields: [(String, String)]) in
            let lun = lunNumber(datastore, fleet)
            let uid = "fc.20000024ff5b3a1\(lun):21000024ff5b3a1\(lun)-fc.50060160c6e0\(lun)-\(datastore.deviceID)"
            let dead = datastore.condition == .apd || datastore.isLost
            return (uid, [("UID", uid), ("Runtime Name", "vmhba2:C0:T0:L\(lun)"), ("Device", datastore.deviceID),
                          ("Device Display Name", "DGC Fibre Channel Disk (\(datastore.deviceID))"), ("Adapter", "vmhba2"),
                          ("Channel", "0"), ("Target", "0"), ("LUN", String(lun)), ("Plugin", "NMP"), ("State", dead ? "dead" : "active"),
                          ("Transport", "fc"), ("Adapter Identifier", "fc.20000024ff5b3a1\(lun):21000024ff5b3a1\(lun)"),
                          ("Target Identifier", "fc.50060160c6e0\(lun)"), ("Maximum IO Size", "33553920")])
        }
        return .text(Render.records(records, blankLineAfterEach: true))
    }

    static func deviceList(on host: String, fleet: Fleet) -> CommandOutput {
        let records = visibleDatastores(host, fleet).map { datastore -> (key: String, fields: [(String, String)]) in
            let status = datastore.isLost ? "dead" : (datastore.condition == .apd ? "dead timeout" : "on")
            return (datastore.deviceID, [("Display Name", "DGC Fibre Channel Disk (\(datastore.deviceID))"), ("Has Settable Display Name", "true"),
                                         ("Size", String(datastore.capacityBytes / 1_048_576)), ("Device Type", "Direct-Access "),
                                         ("Multipath Plugin", "NMP"), ("Devfs Path", "/vmfs/devices/disks/\(datastore.deviceID)"),
                                         ("Vendor", "DGC     "), ("Model", "VRAID           "), ("Status", status),
                                         ("Is Local", "false"), ("Is Shared Clusterwide", "true"), ("Attached Filters", "")])
        }
        return .text(Render.records(records))
    }

    static func snapshotList(on host: String, fleet: Fleet) -> CommandOutput {
        let records = visibleDatastores(host, fleet).filter { $0.isUnresolvedSnapshot(on: host) }.map { datastore -> (key: String, fields: [(String, String)]) in
            (datastore.uuid, [("Volume Name", datastore.name), ("VMFS UUID", datastore.uuid), ("Can mount", "true"),
                              ("Reason for un-mountability", ""), ("Can resignature", "true"), ("Reason for non-resignaturability", ""),
                              ("Unresolved Extent Count", "1")])
        }
        return .text(records.isEmpty ? "" : Render.records(records) + "   \n")
    }

    static func snapshotMount(_ options: [String], on host: String, fleet: inout Fleet) -> CommandOutput {
        func value(_ short: String, _ long: String) -> String? {
            guard let index = options.firstIndex(where: { $0 == short || $0 == long }), index + 1 < options.count else { return nil }
            return options[index + 1]
        }
        let label = value("-l", "--volume-label")
        let uuid = value("-u", "--volume-uuid")
        guard label != nil || uuid != nil else { return .failure("Error: Missing required parameter -l|--volume-label or -u|--volume-uuid\n") }
        guard let index = fleet.datastores.firstIndex(where: { $0.isUnresolvedSnapshot(on: host) && ($0.name == label || $0.uuid == uuid) }) else {
            return .failure("No unresolved VMFS snapshots with volume \(label.map { "label '\($0)'" } ?? "UUID '\(uuid!)'") found.\n")
        }
        fleet.datastores[index].snapshotMountedOn.append(host)
        // Once every host that sees it has mounted the copy, it is simply a datastore again.
        if fleet.datastores[index].hosts.allSatisfy(fleet.datastores[index].snapshotMountedOn.contains) {
            fleet.datastores[index].condition = .ok
            fleet.datastores[index].snapshotMountedOn = []
        }
        fleet.changeLog.append("\(host): snapshot mount \(fleet.datastores[index].name)")
        return .text("")
    }

    static func setMaintenance(_ options: [String], hostIndex: Int, fleet: inout Fleet) -> CommandOutput {
        guard let flag = options.firstIndex(where: { $0 == "--enable" || $0 == "-e" }), flag + 1 < options.count,
              let enable = Bool(options[flag + 1].lowercased()) else {
            return .failure("Error: Missing required parameter -e|--enable\n")
        }
        fleet.hosts[hostIndex].maintenanceMode = enable
        fleet.changeLog.append("\(fleet.hosts[hostIndex].name): maintenanceMode \(enable)")
        return .text("")
    }

    static func version(_ host: SimHost) -> CommandOutput {
        var fields = [("Product", "VMware ESXi"), ("Version", host.version), ("Build", "Releasebuild-\(host.build)"), ("Update", host.version.split(separator: ".").dropFirst(2).first.map(String.init) ?? "0")]
        if host.major >= 9 { fields.append(("Maintenance", "0")) }
        fields.append(("Patch", "0"))
        return .text(fields.map { "   \($0.0): \($0.1)" }.joined(separator: "\n") + "\n")
    }

    static func interfaces(_ host: SimHost) -> CommandOutput {
        let records = host.vmks.map { vmk -> (key: String, fields: [(String, String)]) in
            var fields = [("Name", vmk.name), ("MAC Address", vmk.mac), ("Enabled", "true"), ("Portset", "vSwitch0"), ("Portgroup", vmk.portgroup),
                          ("Netstack Instance", "defaultTcpipStack"), ("VDS Name", "N/A"), ("VDS UUID", "N/A"), ("VDS Port", "N/A"),
                          ("VDS Connection", "-1"), ("Opaque Network ID", "N/A"), ("Opaque Network Type", "N/A"), ("External ID", "N/A"),
                          ("MTU", String(vmk.mtu)), ("TSO MSS", "65535"), ("RXDispQueue Size", "4"), ("Port ID", String(67_108_864 + vmk.name.count))]
            if host.major >= 9 { fields.append(("URPF", "0")) }
            return (vmk.name, fields)
        }
        return .text(Render.records(records))
    }

    static func nics(_ host: SimHost) -> CommandOutput {
        let columns: [Render.Column] = ["Name", "PCI Device", "Driver", "Admin Status", "Link Status", "Speed", "Duplex", "MAC Address", "MTU", "Description"]
            .map { Render.Column(header: $0, rightAligned: $0 == "Speed" || $0 == "MTU") }
        let rows = (0..<2).map { index in
            ["vmnic\(index)", "0000:3b:00.\(index)", "i40en", "Up", host.state == .up ? "Up" : "Down", "10000", "Full",
             String(format: "3c:fd:fe:%02x:%02x:%02x", index, host.name.count, host.address.count), "1500", "Intel(R) Ethernet Controller X710 for 10GbE SFP+"]
        }
        return .text(Render.esxcliTable(columns, rows))
    }
}
