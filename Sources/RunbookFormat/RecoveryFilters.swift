import DrctlCore
import Foundation
import ESXi

/// Filters that know what a recovery needs: which VM a .vmx file is, whether it is registered,
/// which hosts see a datastore. Paths compare as ESXi means them: `[ds] x/x.vmx`,
/// `/vmfs/volumes/ds/x/x.vmx` and `/vmfs/volumes/<uuid>/x/x.vmx` are one file.
enum RecoveryFilters {
    static let names = ["match_inventory", "not_registered", "registrations", "hosts_mounting", "intersect", "zoning", "located", "on_datastore",
                             "off_datastore"]

    static func apply(_ name: String, to value: Value, arguments: [Value]) throws -> Value {
        let items: [Value]
        switch value {
        case .list(let list): items = list
        case .null: items = []
        default: throw EvaluationError("filter '\(name)' needs a list, got a \(value.kindName)")
        }
        func argument(_ index: Int) throws -> Value {
            guard arguments.indices.contains(index) else { throw EvaluationError("filter '\(name)' needs \(index + 1) argument(s)") }
            return arguments[index]
        }
        let labels = arguments.count > 1 ? datastoreLabels(arguments[1]) : [:]
        switch name {
        case "match_inventory": return .list(matchInventory(items, inventory: try argument(0).listValue ?? [], labels: labels))
        case "not_registered":
            let registered = Set((try argument(0).listValue ?? []).compactMap { key($0["file"], labels) })
            return .list(items.filter { item in key(item["file"], labels).map { !registered.contains($0) } ?? true })
        case "registrations":
            // By .vmx path; given a VM (a map) without a known path, by its name.
            let vm = try argument(0)
            if vm.mapValue != nil, key(vm["file"], labels) == nil {
                return .list(items.filter { $0["name"]?.text == vm["name"]?.text })
            }
            guard let wanted = key(vm.mapValue != nil ? vm["file"] : vm, labels) else { return .list([]) }
            return .list((registrationIndexes.index(of: items, labels: labels)[wanted] ?? []).map { items[$0] })
        case "intersect":
            // The entries also in the other list, in this list's order.
            let other = try argument(0).listValue ?? []
            return .list(items.filter { item in other.contains { ExpressionEvaluator.equal($0, item) } })
        case "hosts_mounting":
            // On a list of filesystems (storage.filesystem.list, several hosts): the hosts that mount it, by name.
            let datastore = try argument(0).text
            var hosts: [String] = []
            for filesystem in items where filesystem["volume_name"]?.text == datastore && filesystem["mounted"]?.isTruthy == true {
                if let host = filesystem["host"]?.text, !hosts.contains(host) { hosts.append(host) }
            }
            return .list(hosts.sorted().map(Value.string))
        case "zoning": return zoning(of: try argument(0).text, datastores: items, esxiHosts: try argument(1).listValue ?? [])
        case "located":
            // On registrations by vmid and host (getallvms' invalid ones): each gains the `file`
            // hostd's inventory file gives it (vm.inventory_file), null when it gives none.
            var files: [String: Value] = [:]
            for entry in try argument(0).listValue ?? [] { files["\(entry["host"]?.text ?? "")\u{0}\(entry["vmid"]?.text ?? "")"] = entry["file"] }
            return .list(items.map { item in
                guard var fields = item.mapValue else { return item }
                fields["file"] = files["\(item["host"]?.text ?? "")\u{0}\(item["vmid"]?.text ?? "")"] ?? .null
                return .map(fields)
            })
        case "on_datastore", "off_datastore":
            // Items whose `file` is (or is shown to be elsewhere than) on the datastore, by label or UUID.
            // An item whose file is unknown is in neither: nothing about it is shown.
            let datastore = try argument(0).text
            return .list(items.filter { item in
                guard let path = key(item["file"], labels) else { return false }
                return (path.datastore == datastore) == (name == "on_datastore")
            })
        default:
            throw EvaluationError("unknown filter '\(name)'")
        }
    }

    /// On `inventory.datastores`: which hosts a datastore is presented to, as far as the inventory
    /// says. `hosts`: its zoning; every ESXi host when it is marked shared but not zoned (a
    /// presumption: a rescan of a host that never saw it is harmless); null when the inventory
    /// does not know it (then only the hosts that list it can tell). `says`: that, in words.
    static func zoning(of datastore: String, datastores: [Value], esxiHosts: [Value]) -> Value {
        guard let entry = datastores.first(where: { $0["name"]?.text == datastore }) else {
            return ["hosts": .null, "presumed": false, "says": .string("the inventory does not list \(datastore): the hosts that list it are its users")]
        }
        if let zoned = entry["hosts"]?.listValue {
            return ["hosts": .list(zoned), "presumed": false, "says": .string("zoned in the inventory to " + zoned.map(\.text).joined(separator: ", "))]
        }
        guard entry["shared"]?.isTruthy == true else {
            return ["hosts": .null, "presumed": false, "says": .string("local to one host, not zoned in the inventory: the host that lists it is its user")]
        }
        return ["hosts": .list(esxiHosts), "presumed": true,
                "says": .string("the inventory marks it shared but does not zone it: presumed presented to every ESXi host of the inventory "
                    + "(a rescan of a host that never saw it is harmless)")]
    }

    /// UUID -> label, from `inventory.datastores` (or any list of maps with name and uuid).
    static func datastoreLabels(_ datastores: Value) -> [String: String] {
        var labels: [String: String] = [:]
        for datastore in datastores.listValue ?? [] {
            if let uuid = datastore["uuid"], uuid != .null, let name = datastore["name"]?.text { labels[uuid.text] = name }
        }
        return labels
    }

    /// A file as ESXi means it: the datastore by label, the path tidied (compared, never printed).
    struct PathKey: Hashable {
        var datastore: String
        var relativePath: String
    }

    static func key(_ file: Value?, _ labels: [String: String]) -> PathKey? {
        guard let file, file != .null, let path = parsedPaths.path(file.text) else { return nil }
        return PathKey(datastore: labels.isEmpty ? path.datastore : labels[path.datastore] ?? path.datastore, relativePath: path.relativePath)
    }

    /// A goal asks `registrations` once per VM over the same list of every VM of the site: the
    /// list is indexed by path once, not scanned once per VM.
    static let registrationIndexes = ListIndexes()

    final class ListIndexes: @unchecked Sendable {
        private struct Entry {
            /// Held, so that its storage cannot be freed and reused by another list while cached.
            var list: [Value]
            var labels: [String: String]
            var index: [PathKey: [Int]]
        }

        private let lock = NSLock()
        /// The latest first; one per run that may check its goal at once (a what-if runs one
        /// failure per core). Each entry holds a list of every VM of the site, so a spare one
        /// costs megabytes at 10,000 VMs.
        private var entries: [Entry] = []
        private let capacity = max(2, ProcessInfo.processInfo.activeProcessorCount)

        func index(of list: [Value], labels: [String: String]) -> [PathKey: [Int]] {
            let identity = list.withUnsafeBufferPointer { $0.baseAddress }
            if let hit = lock.withLock({ entries.first { entry in
                entry.list.count == list.count && entry.labels == labels && entry.list.withUnsafeBufferPointer { $0.baseAddress } == identity
            } }) {
                return hit.index
            }
            var index: [PathKey: [Int]] = [:]
            for (position, item) in list.enumerated() {
                if let path = key(item["file"], labels) { index[path, default: []].append(position) }
            }
            lock.withLock {
                entries.insert(Entry(list: list, labels: labels, index: index), at: 0)
                if entries.count > capacity { entries.removeLast() }
            }
            return index
        }
    }

    /// Paths already parsed and tidied (labels apart): a goal asks `registrations` once per VM over
    /// every registered VM's file, so on a large site the same few thousand paths come back
    /// hundreds of thousands of times.
    static let parsedPaths = PathCache()

    final class PathCache: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: [String: DatastorePath?] = [:]

        func path(_ text: String) -> DatastorePath? {
            if let known = lock.withLock({ paths[text] }) { return known }
            let parsed = DatastorePath(text)?.normalized(labels: [:])
            lock.withLock {
                if paths.count > 200_000 { paths.removeAll(keepingCapacity: true) }  // a bound, not a policy
                paths[text] = .some(parsed)
            }
            return parsed
        }
    }

    /// Each .vmx found on disk, matched to its inventory VM: by path first, then by the display
    /// name read from the .vmx, and only last by folder name (a VM renamed in vCenter keeps its
    /// folder). A matched file takes the inventory VM's name and recovery metadata (priority,
    /// depends_on, memory_mb, power_on, last host); `matched_by` says how. Unmatched files keep
    /// what was found, with `matched_by: null`.
    static func matchInventory(_ found: [Value], inventory: [Value], labels: [String: String]) -> [Value] {
        var claimed = Set<Int>()
        // Each inventory VM's path and name read once, not once per file found (2,000 VMs on a large site).
        var byPath: [PathKey: [Int]] = [:]
        var byName: [String: [Int]] = [:]
        for (index, vm) in inventory.enumerated() {
            if let path = key(vm["vmx"], labels) { byPath[path, default: []].append(index) }
            if let name = vm["name"], name != .null { byName[name.text, default: []].append(index) }
        }
        func match(_ item: Value, by rule: String) -> Int? {
            let candidates: [Int]? = switch rule {
            case "path": key(item["file"], labels).flatMap { byPath[$0] }
            case "display name": item["display_name"].flatMap { $0 == .null ? nil : byName[$0.text] }
            default: item["folder"].flatMap { $0 == .null ? nil : byName[$0.text] }
            }
            return candidates?.first { !claimed.contains($0) }
        }
        var matches = [(index: Int, rule: String)?](repeating: nil, count: found.count)
        // Every file gets its strongest match before any weaker rule runs: a folder named like another VM
        // must not take that VM from the file whose path or display name says it is its own.
        for rule in ["path", "display name", "folder"] {
            for (position, item) in found.enumerated() where matches[position] == nil {
                if let index = match(item, by: rule) {
                    claimed.insert(index)
                    matches[position] = (index, rule)
                }
            }
        }
        return found.enumerated().map { position, item in
            guard var fields = item.mapValue else { return item }
            if let foundBy = fields.removeValue(forKey: "host") { fields["found_by"] = foundBy }
            guard let (index, rule) = matches[position], let vm = inventory[index].mapValue else {
                // No inventory entry: what recovering it would assume, so that an operator who
                // includes it gets a VM like any other (priority 3, powered on).
                fields["matched_by"] = .null
                fields["priority"] = fields["priority"] ?? 3
                fields["power_on"] = fields["power_on"] ?? true
                fields["depends_on"] = fields["depends_on"] ?? []
                return .map(fields)
            }
            // The inventory's fields win; what it leaves out (a VM's memory) the .vmx still tells.
            for (field, value) in vm where !["file", "vmx", "datastore"].contains(field) && (value != .null || fields[field] == nil) { fields[field] = value }
            fields["matched_by"] = .string(rule)
            return .map(fields)
        }
    }
}
