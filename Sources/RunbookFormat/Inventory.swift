import DrctlCore

/// The estate a run acts on: hosts and how to reach them, datastores, and VM recovery metadata.
/// `docs/inventory.md` is its reference. Secrets are never written here, only where to find them.
public struct Inventory: Sendable {
    public var hosts: [Host]
    public var datastores: [Datastore]
    public var vms: [VM]
    /// An OpenSSH known_hosts file; `~/.ssh/known_hosts` when absent.
    public var knownHosts: String?
    /// How long a read may take on these hosts before it is given up (`read_timeout:`).
    public var readTimeout: Duration?
    public var file: String

    public init(hosts: [Host] = [], datastores: [Datastore] = [], vms: [VM] = [], knownHosts: String? = nil, file: String = "") {
        self.hosts = hosts
        self.datastores = datastores
        self.vms = vms
        self.knownHosts = knownHosts
        self.file = file
    }

    public func host(named name: String) -> Host? { hosts.first { $0.name == name } }
    public func vm(named name: String) -> VM? { vms.first { $0.name == name } }

    public struct Host: Sendable, Hashable {
        public enum Role: String, Sendable, CaseIterable {
            case esxi, vcsa
        }

        public var name: String
        public var address: String
        public var port: Int
        public var user: String
        public var role: Role
        public var auth: Authentication
        /// A pinned `SHA256:` host key fingerprint.
        public var hostKey: String?
        /// VMkernel interfaces, for vmkping checks between hosts.
        public var interfaces: [Interface]
        /// Memory, for what-if placement (`drctl whatif`); nil: not known.
        public var memoryMB: Int?
        /// Where the host was written, for messages about it.
        public var location: SourceLocation?

        public init(name: String, address: String, port: Int = 22, user: String = "root", role: Role = .esxi,
                    auth: Authentication = .prompt, hostKey: String? = nil, interfaces: [Interface] = []) {
            self.name = name
            self.address = address
            self.port = port
            self.user = user
            self.role = role
            self.auth = auth
            self.hostKey = hostKey
            self.interfaces = interfaces
        }
    }

    public struct Interface: Sendable, Hashable {
        public var name: String
        public var address: String
        /// `management`, `storage`, `vmotion`...
        public var purpose: String

        public init(name: String, address: String, purpose: String) {
            self.name = name
            self.address = address
            self.purpose = purpose
        }
    }

    /// Where a host's credentials come from. Never the secret itself.
    public enum Authentication: Sendable, Hashable {
        case keyFile(path: String, passphraseEnvironment: String?)
        case passwordEnvironment(String)
        case passwordFile(String)
        case prompt
    }

    public struct Datastore: Sendable, Hashable {
        public var name: String
        public var uuid: String?
        public var shared: Bool
        /// The hosts zoned to it (that mount it when all is well); nil when the inventory does not say.
        public var hosts: [String]?

        public init(name: String, uuid: String? = nil, shared: Bool = true, hosts: [String]? = nil) {
            self.name = name
            self.uuid = uuid
            self.shared = shared
            self.hosts = hosts
        }
    }

    public struct VM: Sendable, Hashable {
        public var name: String
        /// 1 (first) to 5 (last), as VMware SRM's priority groups. 3 when not given.
        public var priority: Int
        /// VMs that must be powered on before this one.
        public var dependsOn: [String]
        /// The host it last ran on.
        public var host: String?
        public var datastore: String?
        public var vmx: String?
        public var memoryMB: Int?
        /// Memory ESXi must back physically before it powers the VM on (never overcommitted).
        public var memoryReservationMB: Int?
        /// VMs in the same group are kept on different hosts.
        public var antiAffinity: String?
        /// Whether recovery powers it on (false: it was meant to be off).
        public var powerOn: Bool = true
        /// For what-if predictions: the guest (its boot time) and whether it runs VMware Tools.
        public var guestOS: String?
        public var tools: Bool?
        public var location: SourceLocation?

        public init(name: String, priority: Int = 3, dependsOn: [String] = [], host: String? = nil, datastore: String? = nil,
                    vmx: String? = nil, memoryMB: Int? = nil, antiAffinity: String? = nil, powerOn: Bool = true, location: SourceLocation? = nil) {
            self.powerOn = powerOn
            self.name = name
            self.priority = priority
            self.dependsOn = dependsOn
            self.host = host
            self.datastore = datastore
            self.vmx = vmx
            self.memoryMB = memoryMB
            self.antiAffinity = antiAffinity
            self.location = location
        }
    }

    /// What templates see as `inventory`.
    public var templateValue: Value {
        .map([
            "hosts": .list(hosts.map(\.templateValue)),
            "vms": .list(vms.map(\.templateValue)),
            "datastores": .list(datastores.map { ["name": .string($0.name), "uuid": $0.uuid.map(Value.string) ?? .null, "shared": .bool($0.shared),
                                                  "hosts": $0.hosts.map { .list($0.map(Value.string)) } ?? .null] }),
            "esxi_hosts": .list(hosts.filter { $0.role == .esxi }.map { .string($0.name) }),
            "vcsa_hosts": .list(hosts.filter { $0.role == .vcsa }.map { .string($0.name) }),
        ])
    }
}

extension Inventory.Host {
    public var templateValue: Value {
        ["name": .string(name), "address": .string(address), "port": .int(port), "user": .string(user), "role": .string(role.rawValue),
         "interfaces": .list(interfaces.map { ["name": .string($0.name), "address": .string($0.address), "purpose": .string($0.purpose)] })]
    }
}

extension Inventory.VM {
    public var templateValue: Value {
        ["name": .string(name), "priority": .int(priority), "depends_on": .list(dependsOn.map(Value.string)),
         "host": host.map(Value.string) ?? .null, "last_host": host.map(Value.string) ?? .null, "datastore": datastore.map(Value.string) ?? .null,
         "vmx": vmx.map(Value.string) ?? .null, "file": vmx.map(Value.string) ?? .null, "memory_mb": memoryMB.map(Value.int) ?? .null,
         "anti_affinity": antiAffinity.map(Value.string) ?? .null, "power_on": .bool(powerOn),
         "memory_reservation_mb": memoryReservationMB.map(Value.int) ?? .null]
    }
}

/// What an ESXi host's name can hold: a DNS name's letters, digits, `-`, `.` and `_`. Anything else
/// (quotes, `$(`, backticks, blanks, control characters) is a mistake or an attack: host names
/// reach file names, logs and sshd's configuration under `drill --via-ssh`.
public enum HostName {
    /// Why `name` cannot be a host's name, or nil when it can.
    public static func problem(_ name: String) -> String? {
        guard !name.isEmpty else { return nil }
        let allowed = { (scalar: Unicode.Scalar) in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "." || scalar == "_"
        }
        let bad = name.unicodeScalars.filter { !allowed($0) }
        guard !bad.isEmpty || name.utf8.count > 253 else { return nil }
        if bad.isEmpty { return "host name '\(name.prefix(40))...' is longer than a DNS name can be (253 characters)" }
        var shown: [String] = []
        for scalar in bad where !shown.contains(VisibleText.escape(String(scalar))) { shown.append(VisibleText.escape(String(scalar))) }
        return "host name '\(VisibleText.escape(name))' holds \(shown.map { "'\($0)'" }.joined(separator: ", ")), which no ESXi host name can: use letters, digits, '-', '.' and '_'"
    }
}
