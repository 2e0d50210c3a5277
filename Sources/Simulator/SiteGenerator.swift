import DrctlCore
import Foundation

/// Writes a random, realistic site as a scenario: partial zoning, memory pressure, priorities and
/// dependencies, hostile names, renamed VMs, inventory paths in every form, an unlucky order,
/// and one or two faults beyond the failure being drilled. The same seed gives the same site.
///
/// Drills against generated sites prove more than hand-picked ones: the property tests run each
/// runbook against hundreds of them and check invariants, not expected answers.
public struct SiteGenerator {
    public enum Failure: String, CaseIterable, Sendable {
        case host, datastore, vcenter
    }

    public struct Site: Sendable {
        public var yaml: String
        /// What the drill is about: the failed host, the lost datastore, or the appliance.
        public var failedHost: String?
        public var lostDatastore: String?
        public var vcenterHost: String?
        public var applianceVM: String?
        /// The `--param` arguments the matching runbook needs.
        public var params: [String]
    }

    public var seed: UInt64
    public var hosts: Int?
    public var vms: Int?
    public var datastores: Int?
    public var failure: Failure

    public init(seed: UInt64, hosts: Int? = nil, vms: Int? = nil, datastores: Int? = nil, failure: Failure = .host) {
        self.seed = seed
        self.hosts = hosts
        self.vms = vms
        self.datastores = datastores
        self.failure = failure
    }

    /// Names that have broken tools before: shell metacharacters, quotes, a leading dash,
    /// non-ASCII with spaces, backslashes, brackets, dots, and the three characters hostd escapes.
    static let hostileNames = ["web; reboot", "ops $(id)", "it's \"quoted\"", "-rf", "Zürich Kasse 1", "back\\slash", "web/01", "100% cpu",
                               "`uname`", "a  b", "tab\tname", "日本語 サーバ", "x|y&z", "*glob?", "~home", "semi;colon",
                               "web [old]", "[prod] db", "v1.2.vmx", "a]b", "数据库 服务器"]
    static let plainNames = ["db", "app", "web", "cache", "queue", "auth", "mail", "files", "ldap", "erp", "crm", "bi", "ci", "dns", "proxy", "log"]

    public func generate() -> Site {
        var random = SplitMix64(seed: seed)
        let hostCount = max(failure == .host ? 3 : 2, hosts ?? random.int(in: 3...7))
        let datastoreCount = max(1, datastores ?? random.int(in: 2...4))
        let vmCount = max(2, vms ?? random.int(in: 6...18))
        // An unlucky order: host names are numbered, but listed shuffled.
        var hostNames = (1...hostCount).map { String(format: "esxi-%02d", $0) }
        random.shuffle(&hostNames)
        let failed = failure == .host ? hostNames[random.int(in: 0...(hostCount - 1))] : nil
        let survivors = hostNames.filter { $0 != failed }
        var memory: [String: Int] = [:]
        for host in hostNames { memory[host] = [131_072, 196_608, 262_144, 524_288][random.int(in: 0...3)] }
        // Memory pressure: one survivor can hardly take anything.
        if survivors.count > 2, random.chance(0.4) { memory[survivors[random.int(in: 0...(survivors.count - 1))]] = 24_576 }
        let richest = survivors.max { (memory[$0]!, $1) < (memory[$1]!, $0) }!

        var datastoreLines: [String] = []
        var zoning: [String: [String]] = [:]
        for index in 0..<datastoreCount {
            let name = "ds-\(["gold", "silver", "bronze", "app", "web", "backup"][index % 6])\(index >= 6 ? "-\(index)" : "")"
            var zoned = hostNames
            if random.chance(0.45), hostNames.count > 2 {
                // Partial zoning, unkindest when the survivor with the most memory is left out.
                zoned = hostNames.filter { $0 != richest && ($0 == failed || random.chance(0.7)) }
                if zoned.filter({ $0 != failed }).isEmpty { zoned.append(survivors.first { $0 != richest } ?? richest) }
            }
            zoning[name] = zoned
            datastoreLines.append("  - { name: \(name), hosts: [\(zoned.sorted().joined(separator: ", "))], capacity_gb: 4096, free_gb: \(random.int(in: 200...2000)) }")
        }
        var datastoreNames = zoning.keys.sorted()
        if let failed, random.chance(0.5) {
            datastoreLines.append("  - { name: ds-local-\(failed), hosts: [\(failed)], capacity_gb: 800, free_gb: 300 }")
            zoning["ds-local-\(failed)"] = [failed]
            datastoreNames.append("ds-local-\(failed)")
        }

        var names: [String] = []
        var vmLines: [String] = []
        var vmFacts: [(name: String, priority: Int, host: String?, datastore: String)] = []
        var used: [String: Int] = [:]
        let lost = failure == .datastore ? datastoreNames.filter { !$0.hasPrefix("ds-local") }.first! : nil
        for index in 0..<vmCount {
            var name = random.chance(0.3) ? Self.hostileNames[random.int(in: 0...(Self.hostileNames.count - 1))]
                                          : "\(Self.plainNames[random.int(in: 0...(Self.plainNames.count - 1))])-\(String(format: "%02d", index + 1))"
            if names.contains(name) { name += " \(index)" }
            names.append(name)
            let datastore = index == 0 && lost != nil ? lost! : datastoreNames[random.int(in: 0...(datastoreNames.count - 1))]
            let zoned = zoning[datastore]!
            // Most VMs ran on the failed host; the others run on hosts zoned to their datastore.
            let host: String = if let failed, zoned.contains(failed), random.chance(0.7) { failed } else { zoned[random.int(in: 0...(zoned.count - 1))] }
            let priority = random.int(in: 1...5)
            let memoryMB = [2048, 4096, 8192, 16384][random.int(in: 0...3)]
            var fields = ["name: \(Self.quote(name))", "datastore: \(datastore)", "host: \(host)", "memory_mb: \(memoryMB)", "priority: \(priority)"]
            // Running VMs fit their host's memory, as they did before the incident.
            let on = random.chance(0.85) && used[host, default: 0] + memoryMB <= memory[host]! * 9 / 10
            if on { used[host, default: 0] += memoryMB }
            fields.append("power: \(on ? "on" : "off")")
            let folderSafe = name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? String($0) : "-" }.joined()
            if random.chance(0.15) {
                // Renamed in vCenter: the folder and .vmx keep the old name.
                fields.append("path: old-\(folderSafe)-\(index)/old-\(folderSafe)-\(index).vmx")
            } else if name.contains("/") {
                fields.append("path: \(Self.quote("\(folderSafe)-\(index)/\(folderSafe)-\(index).vmx"))")
            }
            fields.append("inventory_vmx: \(["path", "path", "uuid", "none"][random.int(in: 0...3)])")
            if random.chance(0.1) { fields.append("power_on: false") }
            // Now and then a database VM of the first group with its memory fully reserved (no new
            // draw from the seed: sites generated before keep their shape).
            if priority == 1, memoryMB >= 8192, index % 7 == 0 { fields.append("memory_reservation_mb: \(memoryMB)") }
            let earlier = vmFacts.filter { $0.priority <= priority && $0.host == host }
            if !earlier.isEmpty, random.chance(0.3) { fields.append("depends_on: [\(Self.quote(earlier[random.int(in: 0...(earlier.count - 1))].name))]") }
            vmFacts.append((name, priority, host, datastore))
            vmLines.append("  - { \(fields.joined(separator: ", ")) }")
        }
        random.shuffle(&vmLines)

        var faults: [String] = []
        var hostLines = hostNames.map { host in
            "  - { name: \(host), memory_mb: \(memory[host]!)" + (host == failed ? ", state: down" : "") + " }"
        }
        var vcenterLine: String?
        /// Where the appliance is registered: a refused registration there would leave it unable
        /// to power on in place, a fault of another kind than the one drawn.
        var applianceHome: (host: String, datastore: String)?
        var params: [String] = []
        switch failure {
        case .host:
            params = ["failed_host=\(failed!)"]
        case .datastore:
            // A VM decommissioned by hand long ago on another datastore: its files are gone, its
            // invalid registration stays. It is not this incident's (no new draw from the seed).
            if let other = datastoreNames.first(where: { $0 != lost && !$0.hasPrefix("ds-local") }), let host = zoning[other]?.sorted().first {
                vmLines.append("  - { name: decommissioned-\(seed), datastore: \(other), host: \(host), power: off, files_gone: true }")
            }
            faults.append("  - { datastore_pdl: \(lost!) }")
            faults.append("  - { datastore_returns: { datastore: \(lost!), after_rescans: \(random.int(in: 1...2)), as: \(random.chance(0.5) ? "ok" : "snapshot") } }")
            params = ["datastore=\(lost!)", "return_timeout=12s"]
        case .vcenter:
            // The appliance ran somewhere with room for it.
            let roomy = survivors.filter { host in
                used[host, default: 0] + 21504 <= memory[host]! * 9 / 10 && datastoreNames.contains { zoning[$0]!.contains(host) }
            }
            // With no roomy host, the one with the most memory of those zoned to a datastore: an
            // appliance on storage its host cannot read could never have run there.
            let zonedSurvivors = survivors.filter { host in datastoreNames.contains { zoning[$0]!.contains(host) } }
            let fallback = zonedSurvivors.max { (memory[$0]!, $1) < (memory[$1]!, $0) } ?? richest
            let applianceHost = roomy.isEmpty ? fallback : roomy[random.int(in: 0...(roomy.count - 1))]
            let datastore = datastoreNames.first { zoning[$0]!.contains(applianceHost) } ?? datastoreNames[0]
            vmLines.append("  - { name: vcsa-01, datastore: \(datastore), host: \(applianceHost), power: off, memory_mb: 21504, priority: 1 }")
            applianceHome = (applianceHost, datastore)
            if random.chance(0.4), let index = hostLines.firstIndex(where: { $0.contains("name: \(applianceHost),") }) {
                // The appliance's own host died with it.
                hostLines[index] = hostLines[index].replacingOccurrences(of: " }", with: ", state: down }")
            }
            vcenterLine = "vcenter: { vm: vcsa-01, host: vcsa, address: 10.10.0.5, services: stopped, boot_commands: \(random.int(in: 0...2))"
                + (random.chance(0.5) ? ", services_after_boot: stopped" : "") + " }"
            params = ["vcenter=vcsa", "appliance_vm=vcsa-01"]
        }
        // One or two more things go wrong, as on real sites.
        let extraSurvivors = survivors.filter { $0 != richest }
        for _ in 0..<random.int(in: 1...2) {
            switch random.int(in: 0...3) {
            case 0 where extraSurvivors.count > 1 && failure == .host:
                let down = extraSurvivors[random.int(in: 0...(extraSurvivors.count - 1))]
                if let index = hostLines.firstIndex(where: { $0.contains("name: \(down),") }), !hostLines[index].contains("state:") {
                    hostLines[index] = hostLines[index].replacingOccurrences(of: " }", with: ", state: down }")
                }
            case 1:
                let host = survivors[random.int(in: 0...(survivors.count - 1))]
                let datastore = datastoreNames[random.int(in: 0...(datastoreNames.count - 1))]
                if let home = applianceHome, home.host == host, home.datastore == datastore { break }
                faults.append("  - { registration_refused: { host: \(host), datastore: \(datastore) } }")
            case 2:
                faults.append("  - { registration_lands_late: { vm: \(Self.quote(names[random.int(in: 0...(names.count - 1))])), after_commands: \(random.int(in: 0...4)) } }")
            default:
                faults.append("  - { power_on_fails: \(Self.quote(names[random.int(in: 0...(names.count - 1))])) }")
            }
        }
        let invariantsLine = switch failure {
        case .host: "{ failed_host: \(failed!) }"
        case .datastore: "{ lost_datastore: \(lost!) }"
        case .vcenter: "{ vcenter: true }"
        }
        var yaml = ["# Generated by `drctl sim generate --seed \(seed)\(hosts.map { " --hosts \($0)" } ?? "")\(vms.map { " --vms \($0)" } ?? "")"
                    + "\(datastores.map { " --datastores \($0)" } ?? "") --failure \(failure.rawValue)`.",
                    "scenario: generated-\(failure.rawValue)-\(seed)",
                    "description: A generated site (\(hostCount) hosts, \(vmCount) VMs, \(datastoreCount) datastores); drill it with --param \(params.joined(separator: " --param ")).",
                    "seed: \(seed)", "invariants: " + invariantsLine, "hosts:"] + hostLines + ["datastores:"] + datastoreLines + ["vms:"] + vmLines
        if let vcenterLine { yaml.append(vcenterLine) }
        if !faults.isEmpty { yaml += ["faults:"] + faults }
        return Site(yaml: yaml.joined(separator: "\n") + "\n", failedHost: failed, lostDatastore: lost,
                    vcenterHost: failure == .vcenter ? "vcsa" : nil, applianceVM: failure == .vcenter ? "vcsa-01" : nil, params: params)
    }

    /// A YAML double-quoted scalar: safe for any name.
    static func quote(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\t": quoted += "\\t"
            case "\n": quoted += "\\n"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
