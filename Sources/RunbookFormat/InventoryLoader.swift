import DrctlCore
import Foundation

/// Reads an inventory file, refusing literal secrets and checking names, roles, priorities and
/// VM dependencies.
public enum InventoryLoader {
    static let hostKeys = ["name", "address", "port", "user", "role", "auth", "host_key", "interfaces", "memory_mb"]
    static let secretKeys = ["password", "passphrase", "secret", "private_key"]

    public static func load(path: String) throws -> Inventory {
        let text = try readInputFile(path, what: "inventory")
        return try load(text: text, file: path)
    }

    public static func load(text: String, file: String) throws -> Inventory {
        let reader = YAMLReader(file: file)
        var inventory = Inventory(file: file)
        if let root = reader.compose(text),
           let pairs = reader.mapping(root, "the inventory", allowed: ["hosts", "datastores", "vms", "known_hosts", "read_timeout"]) {
            for (key, _, value) in pairs {
                switch key {
                case "hosts": inventory.hosts = parseEach(reader.sequence(value, "hosts")) { parseHost($0, reader) }
                case "datastores": inventory.datastores = parseEach(reader.sequence(value, "datastores")) { parseDatastore($0, reader) }
                case "vms": inventory.vms = parseEach(reader.sequence(value, "vms")) { parseVM($0, reader) }
                case "known_hosts": inventory.knownHosts = reader.string(value, "known_hosts")
                case "read_timeout": inventory.readTimeout = reader.duration(value, "read_timeout", mustBePositive: true)
                default: break
                }
            }
            check(inventory, root: root, reader)
        }
        guard reader.diagnostics.isEmpty else { throw InvalidInput(reader.diagnostics) }
        return inventory
    }

    /// Each node parsed, into an array sized once: grown by doubling, the VMs of a large
    /// inventory would hold a spare copy at the moment its YAML tree is largest.
    static func parseEach<Parsed>(_ nodes: [YAMLNode]?, _ parse: (YAMLNode) -> Parsed?) -> [Parsed] {
        var parsed: [Parsed] = []
        parsed.reserveCapacity(nodes?.count ?? 0)
        for node in nodes ?? [] { if let item = parse(node) { parsed.append(item) } }
        return parsed
    }

    static func parseHost(_ node: YAMLNode, _ reader: YAMLReader) -> Inventory.Host? {
        rejectSecrets(node, reader)
        guard let pairs = reader.mapping(node, "a host", allowed: hostKeys + secretKeys) else { return nil }
        var host = Inventory.Host(name: "", address: "")
        host.location = reader.location(node)
        for (key, _, value) in pairs {
            switch key {
            case "name":
                host.name = reader.string(value, "name") ?? ""
                if let problem = HostName.problem(host.name) { reader.report(value, problem) }
            case "address": host.address = reader.string(value, "address") ?? ""
            case "port": host.port = reader.integer(value, "port", range: 1...65535) ?? 22
            case "memory_mb": host.memoryMB = reader.integer(value, "memory_mb", range: 1...Int(Int32.max))
            case "user": host.user = reader.string(value, "user") ?? "root"
            case "role":
                let text = reader.string(value, "role") ?? ""
                if let role = Inventory.Host.Role(rawValue: text) { host.role = role } else {
                    reader.report(value, "role must be esxi or vcsa\(Suggestion.hint(for: text, among: ["esxi", "vcsa"]))")
                }
            case "auth": host.auth = parseAuthentication(value, reader) ?? .prompt
            case "host_key":
                let text = reader.string(value, "host_key") ?? ""
                if !text.hasPrefix("SHA256:") { reader.report(value, "host_key must be an OpenSSH fingerprint starting with SHA256: (ssh-keygen -lf KEY prints it)") }
                host.hostKey = text
            case "interfaces":
                host.interfaces = (reader.sequence(value, "interfaces") ?? []).compactMap { item in
                    guard let fields = reader.mapping(item, "an interface", allowed: ["name", "address", "purpose"]) else { return nil }
                    var interface = Inventory.Interface(name: "", address: "", purpose: "management")
                    for (field, _, text) in fields {
                        let string = reader.string(text, field) ?? ""
                        if field == "name" { interface.name = string }
                        if field == "address" { interface.address = string }
                        if field == "purpose" { interface.purpose = string }
                    }
                    return interface
                }
            default: break
            }
        }
        if host.name.isEmpty { reader.report(node, "a host needs a name") }
        if host.address.isEmpty { reader.report(node, "host '\(host.name)' needs an address (IP or DNS name)") }
        return host
    }

    /// A literal secret in the inventory is refused, naming only the key, never the value.
    static func rejectSecrets(_ node: YAMLNode, _ reader: YAMLReader) {
        guard case .mapping(let mapping) = node else { return }
        for (key, value) in mapping {
            if let name = key.string, secretKeys.contains(name) {
                reader.report(key, "'\(name)' would put a secret in the inventory: use auth with password_env, password_file, key_file or prompt instead")
            }
            rejectSecrets(value, reader)
        }
    }

    static func parseAuthentication(_ node: YAMLNode, _ reader: YAMLReader) -> Inventory.Authentication? {
        if case .scalar = node, reader.string(node, "auth") == "prompt" { return .prompt }
        guard let pairs = reader.mapping(node, "auth", allowed: ["key_file", "passphrase_env", "password_env", "password_file", "prompt"] + secretKeys) else { return nil }
        var fields: [String: YAMLNode] = [:]
        for (key, _, value) in pairs { fields[key] = value }
        let methods = ["key_file", "password_env", "password_file", "prompt"].filter { fields[$0] != nil }
        if methods.count > 1 {
            reader.report(node, "auth gives \(methods.joined(separator: " and ")): give one way to log in (key_file, password_env, password_file or prompt)")
            return nil
        }
        if fields["passphrase_env"] != nil, fields["key_file"] == nil {
            reader.report(node, "passphrase_env unlocks a key_file: give the key_file too, or drop passphrase_env")
        }
        if let key = fields["key_file"], let path = reader.string(key, "key_file") {
            return .keyFile(path: path, passphraseEnvironment: fields["passphrase_env"].flatMap { reader.string($0, "passphrase_env") })
        }
        if let variable = fields["password_env"] { return reader.string(variable, "password_env").map(Inventory.Authentication.passwordEnvironment) }
        if let file = fields["password_file"] { return reader.string(file, "password_file").map(Inventory.Authentication.passwordFile) }
        if fields["prompt"] != nil { return .prompt }
        // A literal secret was already reported by the host; say nothing more about it.
        if fields.keys.contains(where: secretKeys.contains) { return nil }
        reader.report(node, "auth needs one of key_file, password_env, password_file or prompt: true")
        return nil
    }

    static func parseDatastore(_ node: YAMLNode, _ reader: YAMLReader) -> Inventory.Datastore? {
        guard let pairs = reader.mapping(node, "a datastore", allowed: ["name", "uuid", "shared", "hosts"]) else { return nil }
        var datastore = Inventory.Datastore(name: "", uuid: nil, shared: true)
        for (key, _, value) in pairs {
            if key == "name" { datastore.name = reader.string(value, "name") ?? "" }
            if key == "uuid" { datastore.uuid = reader.string(value, "uuid") }
            if key == "shared" { datastore.shared = reader.boolean(value, "shared") ?? true }
            if key == "hosts" { datastore.hosts = (reader.sequence(value, "hosts") ?? []).compactMap { reader.string($0, "a host name") } }
        }
        if datastore.name.isEmpty { reader.report(node, "a datastore needs a name") }
        return datastore
    }

    static func parseVM(_ node: YAMLNode, _ reader: YAMLReader) -> Inventory.VM? {
        guard let pairs = reader.mapping(node, "a vm", allowed: ["name", "priority", "depends_on", "host", "datastore", "vmx", "memory_mb", "anti_affinity", "power_on",
                                                                 "guest_os", "tools", "memory_reservation_mb"]) else { return nil }
        var vm = Inventory.VM(name: "", priority: 3, dependsOn: [], host: nil, datastore: nil, vmx: nil, memoryMB: nil, antiAffinity: nil,
                              location: reader.location(node))
        for (key, _, value) in pairs {
            switch key {
            case "name": vm.name = reader.string(value, "name") ?? ""
            case "priority": vm.priority = reader.integer(value, "priority", range: 1...5) ?? 3
            case "depends_on":
                if case .scalar = value { vm.dependsOn = reader.string(value, "depends_on").map { [$0] } ?? [] } else {
                    vm.dependsOn = (reader.sequence(value, "depends_on") ?? []).compactMap { reader.string($0, "a depends_on entry") }
                }
            case "host": vm.host = reader.string(value, "host")
            case "datastore": vm.datastore = reader.string(value, "datastore")
            case "vmx": vm.vmx = reader.string(value, "vmx")
            case "memory_mb": vm.memoryMB = reader.integer(value, "memory_mb", range: 1...Int(Int32.max))
            case "memory_reservation_mb": vm.memoryReservationMB = reader.integer(value, "memory_reservation_mb", range: 0...Int(Int32.max))
            case "anti_affinity": vm.antiAffinity = reader.string(value, "anti_affinity")
            case "power_on": vm.powerOn = reader.boolean(value, "power_on") ?? true
            case "guest_os": vm.guestOS = reader.string(value, "guest_os")
            case "tools": vm.tools = reader.boolean(value, "tools")
            default: break
            }
        }
        if vm.name.isEmpty { reader.report(node, "a vm needs a name") }
        return vm
    }

    static func check(_ inventory: Inventory, root: YAMLNode, _ reader: YAMLReader) {
        let place = reader.location(root)
        func duplicates(_ entries: [(name: String, location: SourceLocation?)], _ what: String) {
            var seen = Set<String>()
            for entry in entries where !entry.name.isEmpty && !seen.insert(entry.name).inserted {
                reader.report(entry.location ?? place, "duplicate \(what) name '\(entry.name)': names must be unique")
            }
        }
        duplicates(inventory.hosts.map { ($0.name, $0.location) }, "host")
        duplicates(inventory.vms.map { ($0.name, $0.location) }, "vm")
        duplicates(inventory.datastores.map { ($0.name, nil) }, "datastore")
        let vmNames = inventory.vms.map(\.name)
        for vm in inventory.vms {
            for dependency in vm.dependsOn where !vmNames.contains(dependency) {
                reader.report(vm.location ?? place, "vm '\(vm.name)' depends on '\(dependency)', which is not in vms\(Suggestion.hint(for: dependency, among: vmNames))")
            }
            if let host = vm.host, inventory.host(named: host) == nil {
                reader.report(vm.location ?? place, "vm '\(vm.name)' names host '\(host)', which is not in hosts\(Suggestion.hint(for: host, among: inventory.hosts.map(\.name)))")
            }
        }
        for datastore in inventory.datastores {
            for host in datastore.hosts ?? [] where inventory.host(named: host) == nil {
                reader.report(place, "datastore '\(datastore.name)' names host '\(host)', which is not in hosts\(Suggestion.hint(for: host, among: inventory.hosts.map(\.name)))")
            }
        }
        if let cycle = dependencyCycle(inventory.vms) {
            reader.report(inventory.vm(named: cycle[0])?.location ?? place, "vm dependencies form a cycle: \(cycle.joined(separator: " -> ")); no VM in it could ever start")
        }
    }

    /// A cycle among VM dependencies as names, the first repeated at the end, or nil.
    public static func dependencyCycle(_ vms: [Inventory.VM]) -> [String]? {
        let edges = Dictionary(vms.map { ($0.name, $0.dependsOn) }, uniquingKeysWith: { first, _ in first })
        var state: [String: Int] = [:]
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if state[name] == 2 { return nil }
            if state[name] == 1, let start = path.firstIndex(of: name) { return Array(path[start...]) + [name] }
            state[name] = 1
            path.append(name)
            for next in edges[name] ?? [] where edges[next] != nil {
                if let cycle = visit(next) { return cycle }
            }
            path.removeLast()
            state[name] = 2
            return nil
        }
        for vm in vms { if let cycle = visit(vm.name) { return cycle } }
        return nil
    }
}
