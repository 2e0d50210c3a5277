import DrctlCore
import Foundation
import RunbookFormat

/// Reads a scenario file, reporting every problem as `file:line:col: message`.
public enum ScenarioLoader {
    static let topKeys = ["scenario", "description", "seed", "latency", "hosts", "datastores", "vms", "vcenter", "faults", "expect", "expect_outcome", "invariants", "durations"]
    /// A variant names a `base` scenario and adds faults or replaces the expectations.
    static let variantKeys = ["scenario", "description", "base", "seed", "faults", "expect", "expect_outcome", "durations"]
    public static let outcomes = ["succeeded", "partial", "handed off", "failed"]

    public static func load(path: String, seed: UInt64? = nil) throws -> Scenario {
        let text = try readInputFile(path, what: "scenario")
        return try load(text: text, file: path, seed: seed)
    }

    /// `seed` overrides the scenario's own (`drctl drill --seed`).
    public static func load(text: String, file: String, seed: UInt64? = nil) throws -> Scenario {
        try load(text: text, file: file, seed: seed, asBase: false)
    }

    /// `asBase`: loaded as a variant's base, which must be a full scenario (so bases never form a cycle).
    static func load(text: String, file: String, seed: UInt64?, asBase: Bool) throws -> Scenario {
        let reader = YAMLReader(file: file)
        guard let root = reader.compose(text) else { throw InvalidInput(reader.diagnostics) }
        if case .mapping(let mapping) = root, let base = mapping["base"] {
            if asBase {
                reader.report(base, "this scenario is a variant's base, so it must be a full scenario, not a variant itself (with base:): point the variant at the full one")
                throw InvalidInput(reader.diagnostics)
            }
            return try loadVariant(root, reader: reader, seed: seed)
        }
        guard let pairs = reader.mapping(root, "the scenario", allowed: topKeys) else { throw InvalidInput(reader.diagnostics) }
        var fields: [String: YAMLNode] = [:]
        for (key, _, value) in pairs { fields[key] = value }
        let name = fields["scenario"].flatMap { reader.string($0, "scenario") } ?? ""
        if name.isEmpty { reader.report(root, "missing 'scenario:' (the scenario's name)") }
        let chosenSeed = seed ?? fields["seed"].flatMap { reader.integer($0, "seed", range: 0...Int.max) }.map(UInt64.init) ?? 1
        let hostEntries = (fields["hosts"].flatMap { reader.sequence($0, "hosts") } ?? []).enumerated().compactMap { index, node in
            parseHost(node, index: index, reader).map { (item: $0, node: node) }
        }
        let hosts = hostEntries.map(\.item)
        if hosts.isEmpty { reader.report(root, "a scenario needs at least one host under hosts:") }
        let hostNames = hosts.map(\.name)
        let datastoreEntries = (fields["datastores"].flatMap { reader.sequence($0, "datastores") } ?? []).compactMap { node in
            parseDatastore(node, hostNames: hostNames, seed: chosenSeed, reader).map { (item: $0, node: node) }
        }
        let datastores = datastoreEntries.map(\.item)
        var locations: [String: YAMLNode] = [:]
        let vmEntries = (fields["vms"].flatMap { reader.sequence($0, "vms") } ?? []).compactMap { node in
            parseVM(node, hostNames: hostNames, datastores: datastores.map(\.name), reader).map { (item: $0, node: node) }
        }
        let vms = vmEntries.map(\.item)
        for entry in vmEntries { locations[entry.item.name] = entry.node }
        reportDuplicates(hostEntries.map { ($0.item.name, $0.node) }, "host", reader)
        reportDuplicates(datastoreEntries.map { ($0.item.name, $0.node) }, "datastore", reader)
        reportDuplicates(vmEntries.map { ($0.item.name, $0.node) }, "vm", reader)
        let vcenter = fields["vcenter"].flatMap { parseVCenter($0, vms: vms.map(\.name), reader) }
        var faults: [FaultRule] = []
        if let latency = fields["latency"] {
            let (fixed, jitter) = parseLatency(latency, reader)
            faults.append(FaultRule(trigger: .start, effect: .latency(fixedMilliseconds: fixed, jitterMilliseconds: jitter)))
        }
        faults += (fields["faults"].flatMap { reader.sequence($0, "faults") } ?? []).compactMap {
            parseFault($0, hostNames: hostNames, datastores: datastores.map(\.name), vms: vms.map(\.name), reader)
        }
        let expectations = (fields["expect"].flatMap { reader.sequence($0, "expect") } ?? []).compactMap {
            parseExpectation($0, hostNames: hostNames, datastores: datastores.map(\.name), vms: vms.map(\.name), reader)
        }
        checkNames(hosts: hostNames, vms: vms, locations: locations, reader)
        guard reader.diagnostics.isEmpty else { throw InvalidInput(reader.diagnostics) }

        var fleet = Fleet(hosts: hosts, datastores: datastores, vms: vms, vcenter: vcenter, faults: faults, seed: chosenSeed)
        fleet.numberRegistrations()
        // An appliance that runs at the start of a scenario with boot_commands is still booting.
        if let vcenter = fleet.vcenter, (vcenter.bootCommands ?? 0) > 0, fleet.vms.contains(where: { $0.name == vcenter.vm && $0.power == .on }) {
            fleet.vcenter?.bootingCommandsLeft = vcenter.bootCommands
            fleet.vcenter?.servicesRunning = false
        }
        // The inventory describes the estate as it was before the incident.
        let before = inventory(for: fleet)
        // Hosts and datastores that start failed take their VMs down with them.
        for host in hosts where host.state != .up { fleet.apply(.hostState(host: host.name, state: host.state)) }
        for datastore in datastores where datastore.condition != .ok {
            fleet.apply(.datastoreCondition(datastore: datastore.name, condition: datastore.condition))
        }
        fleet.fireDueFaults()
        var scenario = Scenario(name: name, description: fields["description"].flatMap { reader.string($0, "description") } ?? "",
                                file: file, fleet: fleet, expectations: expectations, inventory: before)
        if let outcome = expectedOutcome(fields["expect_outcome"], reader) { scenario.expectedOutcome = outcome }
        if let node = fields["durations"] { scenario.durations = parseDurations(node, reader) }
        if let node = fields["invariants"] { scenario.invariants = parseInvariants(node, hostNames: hostNames, datastores: datastores.map(\.name), reader) }
        guard reader.diagnostics.isEmpty else { throw InvalidInput(reader.diagnostics) }
        return scenario
    }

    /// `base: other.yaml` (relative to this file): the base's fleet, with these faults added and,
    /// when given, these expectations instead of the base's.
    static func loadVariant(_ root: YAMLNode, reader: YAMLReader, seed: UInt64?) throws -> Scenario {
        guard let pairs = reader.mapping(root, "a scenario variant (with base:)", allowed: variantKeys) else { throw InvalidInput(reader.diagnostics) }
        var fields: [String: YAMLNode] = [:]
        for (key, _, value) in pairs { fields[key] = value }
        let basePath = fields["base"].flatMap { reader.string($0, "base") } ?? ""
        let resolved = basePath.hasPrefix("/") ? basePath : URL(fileURLWithPath: reader.file).deletingLastPathComponent().appendingPathComponent(basePath).path
        let chosenSeed = seed ?? fields["seed"].flatMap { reader.integer($0, "seed", range: 0...Int.max) }.map(UInt64.init)
        guard FileManager.default.fileExists(atPath: resolved) else {
            reader.report(fields["base"]!, "base scenario '\(basePath)' not found (looked at \(resolved))")
            throw InvalidInput(reader.diagnostics)
        }
        var scenario = try load(text: try readInputFile(resolved, what: "base scenario"), file: resolved, seed: chosenSeed, asBase: true)
        let fleet = scenario.fleet
        let hostNames = fleet.hosts.map(\.name), datastores = fleet.datastores.map(\.name), vms = fleet.vms.map(\.name)
        let faults = (fields["faults"].flatMap { reader.sequence($0, "faults") } ?? []).compactMap {
            parseFault($0, hostNames: hostNames, datastores: datastores, vms: vms, reader)
        }
        if let expect = fields["expect"] {
            scenario.expectations = (reader.sequence(expect, "expect") ?? []).compactMap {
                parseExpectation($0, hostNames: hostNames, datastores: datastores, vms: vms, reader)
            }
        }
        if let outcome = expectedOutcome(fields["expect_outcome"], reader) { scenario.expectedOutcome = outcome }
        if let node = fields["durations"] { scenario.durations = parseDurations(node, reader) }
        guard reader.diagnostics.isEmpty else { throw InvalidInput(reader.diagnostics) }
        scenario.fleet.faults += faults
        scenario.fleet.fireDueFaults()
        scenario.name = fields["scenario"].flatMap { reader.string($0, "scenario") } ?? scenario.name
        scenario.description = fields["description"].flatMap { reader.string($0, "description") } ?? scenario.description
        scenario.file = reader.file
        return scenario
    }

    /// The inventory a drill runs with: the fleet's hosts, datastores and VM recovery metadata.
    public static func inventory(for fleet: Fleet) -> Inventory {
        var hosts = fleet.hosts.map { host in
            var entry = Inventory.Host(name: host.name, address: host.address, role: .esxi, auth: .prompt,
                                       interfaces: host.vmks.map { Inventory.Interface(name: $0.name, address: $0.address, purpose: purpose(of: $0)) })
            entry.memoryMB = host.memoryMB
            return entry
        }
        if let vcenter = fleet.vcenter { hosts.append(Inventory.Host(name: vcenter.hostName, address: vcenter.address, role: .vcsa, auth: .prompt)) }
        let datastores = fleet.datastores.filter { $0.inInventory != .absent }.map {
            Inventory.Datastore(name: $0.name, uuid: $0.uuid, shared: $0.isShared, hosts: $0.inInventory == .unzoned ? nil : $0.hosts)
        }
        // A decommissioned VM whose files are gone is in no inventory any more.
        let vms = fleet.vms.filter { !$0.isTemplate && $0.filesGone != true && $0.inInventory != false }.map { vm in
            let uuid = fleet.datastores.first { $0.name == vm.datastore }?.uuid ?? vm.datastore
            let vmx: String? = switch vm.inventoryVMX {
            case "uuid": "/vmfs/volumes/\(uuid)/\(vm.path)"
            case "none": nil
            default: vm.datastorePath
            }
            var entry = Inventory.VM(name: vm.name, priority: vm.priority, dependsOn: vm.dependsOn, host: vm.registration?.host, datastore: vm.datastore,
                                     vmx: vmx, memoryMB: vm.memoryMB, antiAffinity: vm.antiAffinity, powerOn: vm.power == .on && vm.keepOff != true)
            entry.guestOS = vm.guestOS
            entry.tools = vm.hasTools
            entry.memoryReservationMB = vm.memoryReservationMB
            return entry
        }
        return Inventory(hosts: hosts, datastores: datastores, vms: vms, file: "(scenario)")
    }

    static func purpose(of vmk: SimHost.Vmk) -> String {
        let portgroup = vmk.portgroup.lowercased()
        if portgroup.contains("storage") || portgroup.contains("iscsi") || portgroup.contains("nfs") { return "storage" }
        if portgroup.contains("vmotion") { return "vmotion" }
        return "management"
    }

    static func parseHost(_ node: YAMLNode, index: Int, _ reader: YAMLReader) -> SimHost? {
        guard let pairs = reader.mapping(node, "a host", allowed: ["name", "address", "version", "build", "state", "hostd", "vpxa",
                                                                  "maintenance", "memory_mb", "cpus", "vmks", "storage_adapters"]) else { return nil }
        var host = SimHost(name: "", version: "8.0.3", build: "24585383", address: "10.10.0.\(11 + index)", state: .up, hostdRunning: true,
                           vpxaRunning: true, maintenanceMode: false, memoryMB: 131_072, cpuCores: 32, vmks: [], nextVmid: 1, nextQuestionID: 79_900)
        var vmksGiven = false
        for (key, _, value) in pairs {
            switch key {
            case "name":
                host.name = reader.string(value, "name") ?? ""
                if let problem = HostName.problem(host.name) { reader.report(value, problem) }
            case "address": host.address = reader.string(value, "address") ?? host.address
            case "version": host.version = reader.string(value, "version") ?? host.version
            case "build": host.build = reader.string(value, "build") ?? host.build
            case "state":
                let text = reader.string(value, "state") ?? ""
                if let state = SimHost.State(rawValue: text) { host.state = state } else { reader.report(value, "state must be up, down or hung") }
            case "hostd": host.hostdRunning = serviceState(value, reader)
            case "vpxa": host.vpxaRunning = serviceState(value, reader)
            case "maintenance": host.maintenanceMode = reader.boolean(value, "maintenance") ?? false
            case "memory_mb": host.memoryMB = reader.integer(value, "memory_mb", range: 1...Int(Int32.max)) ?? host.memoryMB
            case "cpus": host.cpuCores = reader.integer(value, "cpus", range: 1...1024) ?? host.cpuCores
            case "storage_adapters": host.storageAdapters = reader.integer(value, "storage_adapters", range: 1...64)
            case "vmks":
                vmksGiven = true
                host.vmks = (reader.sequence(value, "vmks") ?? []).enumerated().compactMap { vmkIndex, item in
                    guard let fields = reader.mapping(item, "a vmk", allowed: ["name", "address", "portgroup", "mtu"]) else { return nil }
                    var vmk = SimHost.Vmk(name: "vmk\(vmkIndex)", address: "", portgroup: "Management Network", mtu: 1500, mac: "")
                    for (field, _, text) in fields {
                        switch field {
                        case "name": vmk.name = reader.string(text, "name") ?? vmk.name
                        case "address": vmk.address = reader.string(text, "address") ?? ""
                        case "portgroup": vmk.portgroup = reader.string(text, "portgroup") ?? vmk.portgroup
                        case "mtu": vmk.mtu = reader.integer(text, "mtu", range: 576...9000) ?? 1500
                        default: break
                        }
                    }
                    vmk.mac = String(format: "00:50:56:%02x:%02x:%02x", index, vmkIndex, vmk.address.count)
                    return vmk
                }
            default: break
            }
        }
        if host.name.isEmpty { reader.report(node, "a host needs a name") }
        if !vmksGiven {
            host.vmks = [SimHost.Vmk(name: "vmk0", address: host.address, portgroup: "Management Network", mtu: 1500,
                                     mac: String(format: "00:50:56:%02x:00:01", index))]
        }
        return host
    }

    static func serviceState(_ node: YAMLNode, _ reader: YAMLReader) -> Bool {
        switch reader.string(node, "service state") {
        case "running": return true
        case "stopped": return false
        default:
            reader.report(node, "a service state is running or stopped")
            return true
        }
    }

    static func parseDatastore(_ node: YAMLNode, hostNames: [String], seed: UInt64, _ reader: YAMLReader) -> SimDatastore? {
        guard let pairs = reader.mapping(node, "a datastore", allowed: ["name", "uuid", "type", "capacity_gb", "free_gb", "hosts", "condition",
                                                                       "returns_after_rescans", "returns_as", "in_inventory"]) else { return nil }
        var datastore = SimDatastore(name: "", uuid: "", type: "VMFS-6", capacityBytes: 2_199_023_255_552, freeBytes: 1_099_511_627_776,
                                     hosts: hostNames, condition: .ok, returnsAfterRescans: nil, returnsAs: .ok, deviceID: "")
        for (key, _, value) in pairs {
            switch key {
            case "name": datastore.name = reader.string(value, "name") ?? ""
            case "uuid": datastore.uuid = reader.string(value, "uuid") ?? ""
            case "type": datastore.type = reader.string(value, "type") ?? datastore.type
            case "capacity_gb": datastore.capacityBytes = Int64(reader.integer(value, "capacity_gb", range: 1...1_000_000) ?? 2048) * 1_073_741_824
            case "free_gb": datastore.freeBytes = Int64(reader.integer(value, "free_gb", range: 0...1_000_000) ?? 1024) * 1_073_741_824
            case "hosts":
                datastore.hosts = (reader.sequence(value, "hosts") ?? []).compactMap { item in
                    guard let name = reader.string(item, "a host name") else { return nil }
                    if !hostNames.contains(name) { reader.report(item, "no host '\(name)' in this scenario\(Suggestion.hint(for: name, among: hostNames))") }
                    return name
                }
            case "condition": datastore.condition = condition(value, reader) ?? .ok
            case "returns_after_rescans": datastore.returnsAfterRescans = reader.integer(value, "returns_after_rescans", range: 1...1000)
            case "returns_as": datastore.returnsAs = condition(value, reader) ?? .ok
            case "in_inventory":
                let text = reader.string(value, "in_inventory") ?? ""
                datastore.inInventory = SimDatastore.InventoryEntry(rawValue: text)
                if datastore.inInventory == nil { reader.report(value, "in_inventory must be one of zoned, unzoned, absent") }
            default: break
            }
        }
        if datastore.name.isEmpty { reader.report(node, "a datastore needs a name") }
        if datastore.freeBytes > datastore.capacityBytes {
            reader.report(node, "datastore '\(datastore.name)' has more free (\(datastore.freeBytes >> 30) GB) than its capacity (\(datastore.capacityBytes >> 30) GB): "
                          + "free_gb must be at most capacity_gb")
        }
        if datastore.uuid.isEmpty { datastore.uuid = SeededRandom.vmfsUUID(seed: seed, key: "datastore/\(datastore.name)") }
        datastore.deviceID = "naa.6006016" + datastore.uuid.replacingOccurrences(of: "-", with: "").prefix(25)
        return datastore
    }

    static func condition(_ node: YAMLNode, _ reader: YAMLReader) -> SimDatastore.Condition? {
        let text = reader.string(node, "condition") ?? ""
        if let condition = SimDatastore.Condition(rawValue: text) ?? SimDatastore.Condition(rawValue: text.uppercased()) { return condition }
        reader.report(node, "condition must be one of ok, APD, PDL, removed, unmounted, snapshot")
        return nil
    }

    static func parseVM(_ node: YAMLNode, hostNames: [String], datastores: [String], _ reader: YAMLReader) -> SimVM? {
        guard let pairs = reader.mapping(node, "a vm", allowed: ["name", "datastore", "path", "host", "power", "guest_os", "memory_mb", "memory_reservation_mb", "version",
                                                                "annotation", "template", "priority", "depends_on", "anti_affinity",
                                                                "inventory_vmx", "power_on", "tools", "boot", "files_gone", "in_inventory"]) else { return nil }
        var vm = SimVM(name: "", datastore: "", path: "", guestOS: "otherLinux64Guest", hardwareVersion: "vmx-19", memoryMB: 4096, annotation: "",
                       isTemplate: false, registration: nil, power: .off, owner: nil, question: nil, priority: 3, dependsOn: [], failsToPowerOn: false)
        var host: String?
        for (key, _, value) in pairs {
            switch key {
            case "name": vm.name = reader.string(value, "name") ?? ""
            case "datastore":
                vm.datastore = reader.string(value, "datastore") ?? ""
                if !datastores.contains(vm.datastore) { reader.report(value, "no datastore '\(vm.datastore)' in this scenario\(Suggestion.hint(for: vm.datastore, among: datastores))") }
            case "path": vm.path = reader.string(value, "path") ?? ""
            case "host":
                host = reader.string(value, "host")
                if let name = host, !hostNames.contains(name) { reader.report(value, "no host '\(name)' in this scenario\(Suggestion.hint(for: name, among: hostNames))") }
            case "power":
                let text = reader.string(value, "power") ?? ""
                if let power = SimVM.Power(rawValue: text) { vm.power = power } else { reader.report(value, "power must be on, off or suspended") }
            case "guest_os": vm.guestOS = reader.string(value, "guest_os") ?? vm.guestOS
            case "memory_mb": vm.memoryMB = reader.integer(value, "memory_mb", range: 1...Int(Int32.max)) ?? vm.memoryMB
            case "memory_reservation_mb": vm.memoryReservationMB = reader.integer(value, "memory_reservation_mb", range: 0...Int(Int32.max))
            case "version": vm.hardwareVersion = reader.string(value, "version") ?? vm.hardwareVersion
            case "annotation": vm.annotation = reader.string(value, "annotation") ?? ""
            case "template": vm.isTemplate = reader.boolean(value, "template") ?? false
            case "priority": vm.priority = reader.integer(value, "priority", range: 1...5) ?? 3
            case "depends_on": vm.dependsOn = (reader.sequence(value, "depends_on") ?? []).compactMap { reader.string($0, "a VM name") }
            case "anti_affinity": vm.antiAffinity = reader.string(value, "anti_affinity")
            case "inventory_vmx":
                let text = reader.string(value, "inventory_vmx") ?? ""
                if ["path", "uuid", "none"].contains(text) { vm.inventoryVMX = text } else { reader.report(value, "inventory_vmx must be path, uuid or none") }
            case "power_on":
                // The inventory's wish for recovery: power_on: false keeps it off after a recovery.
                vm.keepOff = !(reader.boolean(value, "power_on") ?? true)
            case "tools": vm.hasTools = reader.boolean(value, "tools")
            case "boot": vm.bootMilliseconds = reader.duration(value, "boot").map { Int($0.milliseconds) }
            case "in_inventory": vm.inInventory = reader.boolean(value, "in_inventory")
            case "files_gone":
                vm.filesGone = reader.boolean(value, "files_gone")
                if vm.filesGone == true { vm.invalid = true }
            default: break
            }
        }
        if vm.name.isEmpty { reader.report(node, "a vm needs a name") }
        if vm.path.isEmpty { vm.path = "\(vm.name)/\(vm.name).\(vm.isTemplate ? "vmtx" : "vmx")" }
        if let host, !vm.isTemplate {
            vm.owner = host
            vm.registration = SimVM.Registration(host: host, vmid: 0)  // numbered below, per host
        }
        return vm
    }

    static func parseVCenter(_ node: YAMLNode, vms: [String], _ reader: YAMLReader) -> SimVCenter? {
        guard let pairs = reader.mapping(node, "vcenter", allowed: ["vm", "host", "address", "services", "boot_commands", "services_after_boot",
                                                                    "manual_services"]) else { return nil }
        var vcenter = SimVCenter(vm: "", hostName: "vcsa", address: "10.10.0.5", servicesRunning: true)
        for (key, _, value) in pairs {
            switch key {
            case "vm":
                vcenter.vm = reader.string(value, "vm") ?? ""
                if !vms.contains(vcenter.vm) { reader.report(value, "the appliance VM '\(vcenter.vm)' is not among vms") }
            case "host": vcenter.hostName = reader.string(value, "host") ?? vcenter.hostName
            case "address": vcenter.address = reader.string(value, "address") ?? vcenter.address
            case "services": vcenter.servicesRunning = serviceState(value, reader)
            case "boot_commands": vcenter.bootCommands = reader.integer(value, "boot_commands", range: 0...10_000)
            case "services_after_boot": vcenter.servicesStartOnBoot = serviceState(value, reader)
            case "manual_services": vcenter.moreManualServices = (reader.sequence(value, "manual_services") ?? []).compactMap { reader.string($0, "a service") }
            default: break
            }
        }
        return vcenter
    }

    static func parseLatency(_ node: YAMLNode, _ reader: YAMLReader) -> (Int, Int) {
        var fixed = 0, jitter = 0
        for (key, _, value) in reader.mapping(node, "latency", allowed: ["fixed", "jitter"]) ?? [] {
            let milliseconds = Int(reader.duration(value, key)?.milliseconds ?? 0)
            if key == "fixed" { fixed = milliseconds } else { jitter = milliseconds }
        }
        return (fixed, jitter)
    }

    /// Two hosts (or datastores, or VMs) of one name would make every fault and check naming it ambiguous.
    static func reportDuplicates(_ entries: [(name: String, node: YAMLNode)], _ what: String, _ reader: YAMLReader) {
        var seen = Set<String>()
        for entry in entries where !seen.insert(entry.name).inserted {
            reader.report(entry.node, "a second \(what) named '\(entry.name)': give each \(what) its own name")
        }
    }

    static func checkNames(hosts: [String], vms: [SimVM], locations: [String: YAMLNode], _ reader: YAMLReader) {
        for vm in vms {
            for dependency in vm.dependsOn where !vms.contains(where: { $0.name == dependency }) {
                reader.report(locations[vm.name]!, "vm '\(vm.name)' depends on '\(dependency)', which is not in this scenario")
            }
        }
        // The drill's inventory carries these dependencies: a cycle would leave its VMs off forever.
        if let cycle = InventoryLoader.dependencyCycle(vms.map { Inventory.VM(name: $0.name, dependsOn: $0.dependsOn) }) {
            reader.report(locations[cycle[0]]!, "vm dependencies form a cycle: \(cycle.joined(separator: " -> ")); no VM in it could ever start")
        }
    }
}
