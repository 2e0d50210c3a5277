import Foundation

/// The datastore file tree under /vmfs/volumes: `ls`, `find`, `df -h`, `test -e`.
enum Files {
    static func run(_ name: String, _ arguments: [String], on host: String, fleet: Fleet) -> CommandOutput {
        switch name {
        case "ls": return list(arguments.filter { !$0.hasPrefix("-") }.first ?? "/", on: host, fleet: fleet)
        case "find": return find(arguments, on: host, fleet: fleet)
        case "df": return diskFree(on: host, fleet: fleet)
        default:
            let path = arguments.last(where: { $0 != "]" }) ?? ""
            return CommandOutput(exit: entries(path, on: host, fleet: fleet) != nil ? 0 : 1)
        }
    }

    /// Every file path of the datastores this host can read, relative to /vmfs/volumes/DS.
    static func files(of datastore: SimDatastore, fleet: Fleet) -> [String] {
        files(of: datastore, fleet: fleet, named: { _ in true })
    }

    /// The files whose name (last component) passes `wanted`, sorted: `find -name` looks at every
    /// VM of a datastore, and builds and sorts only the paths it prints.
    static func files(of datastore: SimDatastore, fleet: Fleet, named wanted: (Substring) -> Bool) -> [String] {
        var paths: [String] = []
        for index in fleet.vms.indices where fleet.vms[index].datastore == datastore.name && fleet.vms[index].filesGone != true {
            let vm = fleet.vms[index]
            let slash = vm.path.lastIndex(of: "/")
            let base = slash.map { String(vm.path[...$0]) } ?? ""
            let fileName = slash.map { vm.path[vm.path.index(after: $0)...] } ?? vm.path[...]
            let stem = fileName.dropLast(vm.isTemplate ? 5 : 4)
            if wanted(fileName) { paths.append(vm.path) }
            for suffix in [".vmdk", "-flat.vmdk", ".nvram", ".vmsd"] where wanted(Substring(stem + suffix)) {
                paths.append(base + stem + suffix)
            }
            if wanted("vmware.log") { paths.append(base + "vmware.log") }
        }
        return paths.sorted()
    }

    /// The names in a directory, or nil when it does not exist (or cannot be read now).
    static func entries(_ path: String, on host: String, fleet: Fleet) -> [String]? {
        let trimmed = path.split(separator: "/").map(String.init)
        if trimmed.isEmpty { return ["bin", "dev", "etc", "lib", "opt", "tmp", "usr", "var", "vmfs"] }
        if trimmed == ["vmfs"] { return ["devices", "volumes"] }
        guard trimmed.count >= 2, trimmed[0] == "vmfs", trimmed[1] == "volumes" else { return nil }
        let visible = fleet.datastores.filter { $0.isMounted(on: host) }
        if trimmed.count == 2 { return (visible.map(\.name) + visible.map(\.uuid)).sorted() }
        guard let datastore = visible.first(where: { $0.name == trimmed[2] || $0.uuid == trimmed[2] }) else { return nil }
        let inside = trimmed.dropFirst(3).joined(separator: "/")
        let all = files(of: datastore, fleet: fleet)
        if all.contains(inside) { return [trimmed.last!] }
        let prefix = inside.isEmpty ? "" : inside + "/"
        let children = Set(all.filter { $0.hasPrefix(prefix) }.compactMap { $0.dropFirst(prefix.count).split(separator: "/").first.map(String.init) })
        return children.isEmpty && !inside.isEmpty ? nil : children.sorted()
    }

    /// What a VM's .vmx holds (the lines recovery reads), when this host can read it now.
    static func content(of path: String, on host: String, fleet: Fleet) -> String? {
        contents(of: [path], on: host, fleet: fleet)[path] ?? nil
    }

    /// Several files at once (`grep FILE...`): the VMs are looked up by path once, not once per file.
    static func contents(of paths: [String], on host: String, fleet: Fleet) -> [String: String?] {
        // Each wanted file as (datastore label, path inside it), when this host can read it.
        var wanted: [String: (datastore: String, relative: String)] = [:]
        for path in paths {
            let parts = path.split(separator: "/").map(String.init)
            guard parts.count >= 4, parts[0] == "vmfs", parts[1] == "volumes",
                  let datastore = fleet.datastores.first(where: { ($0.name == parts[2] || $0.uuid == parts[2]) && $0.isMounted(on: host) }) else { continue }
            wanted[path] = (datastore.name, parts.dropFirst(3).joined(separator: "/"))
        }
        // The VMs by path, looked up once for all files (the first VM with that file).
        let relativePaths = Set(wanted.values.map(\.relative))
        var byPath: [String: [Int]] = [:]
        for index in fleet.vms.indices where relativePaths.contains(fleet.vms[index].path) { byPath[fleet.vms[index].path, default: []].append(index) }
        var result: [String: String?] = [:]
        for path in paths {
            guard let (datastore, relative) = wanted[path],
                  let index = byPath[relative]?.first(where: { fleet.vms[$0].datastore == datastore }) else {
                result[path] = .some(nil)
                continue
            }
            result[path] = vmxText(fleet.vms[index])
        }
        return result
    }

    static func vmxText(_ vm: SimVM) -> String {
        // A .vmx escapes a quote as |22 and a bar as |7C.
        let escaped = vm.name.utf8.contains { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "\"") }
        let display = escaped ? vm.name.replacingOccurrences(of: "|", with: "|7C").replacingOccurrences(of: "\"", with: "|22") : vm.name
        let hardware = vm.hardwareVersion.hasPrefix("vmx-") ? String(vm.hardwareVersion.dropFirst(4)) : vm.hardwareVersion
        let guest = vm.guestOS.hasSuffix("Guest") ? String(vm.guestOS.dropLast(5)) : vm.guestOS
        return ".encoding = \"UTF-8\"\nconfig.version = \"8\"\nvirtualHW.version = \"\(hardware)\"\ndisplayName = \"\(display)\"\n"
            + "memSize = \"\(vm.memoryMB)\"\nguestOS = \"\(guest)\"\n"
    }

    static func list(_ path: String, on host: String, fleet: Fleet) -> CommandOutput {
        guard let names = entries(path, on: host, fleet: fleet) else {
            return .failure("ls: \(path): No such file or directory\n")
        }
        return .text(names.isEmpty ? "" : names.joined(separator: "\n") + "\n")
    }

    /// `find DIR [-maxdepth N] [-name PATTERN]`, printing paths as BusyBox does (a trailing slash
    /// on DIR gives `DIR//sub`).
    static func find(_ arguments: [String], on host: String, fleet: Fleet) -> CommandOutput {
        guard let start = arguments.first, !start.hasPrefix("-") else { return .failure("find: missing path\n") }
        var maxDepth = Int.max
        var pattern: String?
        if let index = arguments.firstIndex(of: "-maxdepth"), index + 1 < arguments.count { maxDepth = Int(arguments[index + 1]) ?? Int.max }
        if let index = arguments.firstIndex(of: "-name"), index + 1 < arguments.count { pattern = arguments[index + 1] }
        let parts = start.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "vmfs", parts[1] == "volumes",
              let datastore = fleet.datastores.first(where: { ($0.name == parts[2] || $0.uuid == parts[2]) && $0.isMounted(on: host) }) else {
            return .failure("find: \(start): No such file or directory\n")
        }
        let inside = parts.dropFirst(3).joined(separator: "/")
        let prefix = inside.isEmpty ? "" : inside + "/"
        let wanted = pattern.map { Array($0.unicodeScalars) }
        var results: [String] = []
        let named = files(of: datastore, fleet: fleet, named: { name in wanted.map { glob($0, Array(name.unicodeScalars)) } ?? true })
        for file in named where file.hasPrefix(prefix) {
            let relative = file.unicodeScalars.dropFirst(prefix.unicodeScalars.count)
            guard relative.count(where: { $0 == "/" }) < maxDepth else { continue }
            results.append(start + "/" + String(relative))
        }
        return .text(results.isEmpty ? "" : results.joined(separator: "\n") + "\n")
    }

    /// Shell glob with `*` and `?`.
    /// Matched by hand, backtracking to the last `*` (a regular expression per file name was
    /// most of the time `find` took on a datastore of a few hundred VMs).
    static func glob(_ pattern: String, _ name: String) -> Bool {
        glob(Array(pattern.unicodeScalars), Array(name.unicodeScalars))
    }

    static func glob(_ wanted: [Unicode.Scalar], _ text: [Unicode.Scalar]) -> Bool {
        var p = 0, t = 0, star: Int?, resume = 0
        while t < text.count {
            if p < wanted.count, wanted[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if p < wanted.count, wanted[p] == "?" || wanted[p] == text[t] {
                p += 1
                t += 1
            } else if let star {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < wanted.count, wanted[p] == "*" { p += 1 }
        return p == wanted.count
    }

    static func diskFree(on host: String, fleet: Fleet) -> CommandOutput {
        var lines = ["Filesystem   Size   Used Available Use% Mounted on"]
        for datastore in fleet.datastores where datastore.isMounted(on: host) {
            let used = datastore.capacityBytes - datastore.freeBytes
            let percent = datastore.capacityBytes == 0 ? 0 : Int(used * 100 / datastore.capacityBytes)
            let type = datastore.type.hasPrefix("VMFS") ? datastore.type : "NFS"
            lines.append("\(type.padding(toLength: 10, withPad: " ", startingAt: 0)) \(Render.bytesHuman(datastore.capacityBytes).leftPad(6)) \(Render.bytesHuman(used).leftPad(6)) \(Render.bytesHuman(datastore.freeBytes).leftPad(9)) \(String(percent).leftPad(3))% /vmfs/volumes/\(datastore.name)")
        }
        lines.append("vfat         4.0G 304.9M      3.7G   7% /vmfs/volumes/BOOTBANK1")
        return .text(lines.joined(separator: "\n") + "\n")
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
