import Yams

/// Writes an inventory as the YAML `InventoryLoader` reads (docs/inventory.md): what `drctl sim
/// inventory` and `drctl sim from-run` hand to `drctl run` and `drctl whatif`. It never holds a
/// secret, only where one is found.
public enum InventoryWriter {
    public static func yaml(_ inventory: Inventory) throws -> String {
        var root: [(String, Node)] = []
        if let knownHosts = inventory.knownHosts { root.append(("known_hosts", scalar(knownHosts))) }
        root.append(("hosts", .sequence(Node.Sequence(inventory.hosts.map(host)))))
        if !inventory.datastores.isEmpty { root.append(("datastores", .sequence(Node.Sequence(inventory.datastores.map(datastore))))) }
        if !inventory.vms.isEmpty { root.append(("vms", .sequence(Node.Sequence(inventory.vms.map(vm))))) }
        return try Yams.serialize(node: mapping(root), width: -1)
    }

    static func host(_ host: Inventory.Host) -> Node {
        var fields: [(String, Node)] = [("name", scalar(host.name)), ("address", scalar(host.address))]
        if host.port != 22 { fields.append(("port", scalar(String(host.port)))) }
        if host.user != "root" { fields.append(("user", scalar(host.user))) }
        if host.role != .esxi { fields.append(("role", scalar(host.role.rawValue))) }
        fields.append(("auth", authentication(host.auth)))
        if let key = host.hostKey { fields.append(("host_key", scalar(key))) }
        if let memory = host.memoryMB { fields.append(("memory_mb", scalar(String(memory)))) }
        if !host.interfaces.isEmpty {
            fields.append(("interfaces", .sequence(Node.Sequence(host.interfaces.map { interface in
                mapping([("name", scalar(interface.name)), ("address", scalar(interface.address)), ("purpose", scalar(interface.purpose))], flow: true)
            }))))
        }
        return mapping(fields)
    }

    static func authentication(_ auth: Inventory.Authentication) -> Node {
        switch auth {
        case .prompt: scalar("prompt")
        case .keyFile(let path, let passphrase):
            mapping([("key_file", scalar(path))] + (passphrase.map { [("passphrase_env", scalar($0))] } ?? []), flow: true)
        case .passwordEnvironment(let variable): mapping([("password_env", scalar(variable))], flow: true)
        case .passwordFile(let path): mapping([("password_file", scalar(path))], flow: true)
        }
    }

    static func datastore(_ datastore: Inventory.Datastore) -> Node {
        var fields: [(String, Node)] = [("name", scalar(datastore.name))]
        if let uuid = datastore.uuid { fields.append(("uuid", scalar(uuid))) }
        fields.append(("shared", scalar(datastore.shared ? "true" : "false")))
        if let hosts = datastore.hosts { fields.append(("hosts", .sequence(Node.Sequence(hosts.map(scalar), .implicit, .flow)))) }
        return mapping(fields, flow: true)
    }

    static func vm(_ vm: Inventory.VM) -> Node {
        var fields: [(String, Node)] = [("name", scalar(vm.name)), ("priority", scalar(String(vm.priority)))]
        if !vm.dependsOn.isEmpty { fields.append(("depends_on", .sequence(Node.Sequence(vm.dependsOn.map(scalar), .implicit, .flow)))) }
        if let host = vm.host { fields.append(("host", scalar(host))) }
        if let datastore = vm.datastore { fields.append(("datastore", scalar(datastore))) }
        if let vmx = vm.vmx { fields.append(("vmx", scalar(vmx))) }
        if let memory = vm.memoryMB { fields.append(("memory_mb", scalar(String(memory)))) }
        if let reserved = vm.memoryReservationMB { fields.append(("memory_reservation_mb", scalar(String(reserved)))) }
        if let group = vm.antiAffinity { fields.append(("anti_affinity", scalar(group))) }
        if !vm.powerOn { fields.append(("power_on", scalar("false"))) }
        if let guest = vm.guestOS { fields.append(("guest_os", scalar(guest))) }
        if let tools = vm.tools { fields.append(("tools", scalar(tools ? "true" : "false"))) }
        return mapping(fields, flow: true)
    }

    /// Numbers and booleans plain; every other text quoted when YAML would read it as something else.
    public static func scalar(_ text: String) -> Node {
        let plain = Int(text) != nil || text == "true" || text == "false"
        let needsQuotes = !plain && (Node(text).any is String == false || text.isEmpty || text.contains(where: { ":#{}[],&*!|>'\"%@`\\\t\n".contains($0) })
            || text.first == " " || text.last == " " || text.first == "-" || text.first == "?")
        return .scalar(Node.Scalar(text, .implicit, needsQuotes ? .doubleQuoted : .plain))
    }

    public static func mapping(_ fields: [(String, Node)], flow: Bool = false) -> Node {
        .mapping(Node.Mapping(fields.map { (Node($0.0), $0.1) }, .implicit, flow ? .flow : .block))
    }
}
