import DrctlCore
import Foundation
@testable import RunbookFormat
import Testing

/// Every filter that compares names compares them literally: no glob, no pattern, no escape.
@Suite("names compare literally in every filter")
struct LiteralNameFilterTests {
    /// Names that look like patterns or paths to some tool, as real sites have them.
    static let names = ["web [old]", "[prod] db", "a]b", "db*01", "db?1", "back\\slash", "100% cpu", "v1.2", "v1x2", "two  blanks", "tab\there",
                        "数据库 服务器", "Zürich", ".*", "web", "web [old] 2"]

    /// Each name as a VM on its own folder of one datastore, registered on h1, inventoried.
    let vms: Value = .list(names.enumerated().map { index, name in
        ["name": .string(name), "file": .string("[ds [a]] \(name)/\(name).vmx"), "vmx": .string("[ds [a]] \(name)/\(name).vmx"),
         "host": "h1", "vmid": .int(index + 1), "priority": 3, "memory_mb": 1024, "power_on": true]
    })
    let datastores: Value = [["name": "ds [a]", "uuid": "uuid-a", "shared": true, "hosts": .null]]

    func eval(_ text: String, _ roots: [String: Value]) throws -> Value {
        try ExpressionEvaluator.evaluate(try ExpressionParser.parse(text), in: DictionaryScope(roots))
    }

    func roots(_ name: String) -> [String: Value] {
        ["vms": vms, "name": .string(name), "names": .list(Self.names.map(Value.string)), "datastores": datastores,
         "vm": vms.listValue!.first { $0["name"]?.text == name }!,
         "filesystems": [["host": "h2", "volume_name": "ds [a]", "mounted": true], ["host": "h1", "volume_name": "ds*", "mounted": true]]]
    }

    @Test("where, where_in, where_not_in, exclude, intersect, unique_by, merge, registrations, not_registered, match_inventory, in",
          arguments: names)
    func eachFilter(_ name: String) throws {
        let roots = roots(name)
        #expect(try eval("vms | where('name', name) | names", roots) == [.string(name)])
        #expect(try eval("vms | where_in('name', [name]) | names", roots) == [.string(name)])
        #expect(try eval("vms | where_not_in('name', [name]) | count", roots) == .int(Self.names.count - 1))
        #expect(try eval("names | exclude(name) | count", roots) == .int(Self.names.count - 1))
        #expect(try eval("vms | exclude(vm) | count", roots) == .int(Self.names.count - 1))
        #expect(try eval("names | intersect([name])", roots) == [.string(name)])
        #expect(try eval("vms | unique_by('name') | count", roots) == .int(Self.names.count))
        #expect(try eval("[vm] | merge(vms) | names", roots) == [.string(name)])
        #expect(try eval("vms | registrations(vm, datastores) | names", roots) == [.string(name)], "by its .vmx path")
        #expect(try eval("vms | registrations(vm.file, datastores) | names", roots) == [.string(name)])
        let byName = try eval("vms | registrations(vm_without_file, datastores) | names",
                              roots.merging(["vm_without_file": ["name": .string(name)]]) { $1 })
        #expect(byName == [.string(name)], "by its name when it has no file")
        #expect(try eval("vms | not_registered(vms, datastores) | count", roots) == 0)
        #expect(try eval("[vm] | not_registered(vms | exclude(vm), datastores) | names", roots) == [.string(name)])
        let matched = try eval("[vm] | match_inventory(vms, datastores)", roots).listValue?.first
        #expect(matched?["name"] == .string(name))
        #expect(matched?["matched_by"] == "path")
        #expect(try eval("name in names", roots) == true)
        #expect(try eval("vm.name == name", roots) == true)
        #expect(try eval("vms | map('name') | unique | count", roots) == .int(Self.names.count))
        #expect(try eval("vms | format('{name}') | first", roots) == .string(Self.names[0]))
    }

    @Test("hosts_mounting and zoning take a datastore's name literally")
    func datastoreNames() throws {
        let roots = roots("web")
        #expect(try eval("filesystems | hosts_mounting('ds [a]')", roots) == ["h2"])
        #expect(try eval("filesystems | hosts_mounting('ds*')", roots) == ["h1"])
        #expect(try eval("filesystems | hosts_mounting('ds')", roots) == [])
        let zoning = try eval("datastores | zoning('ds [a]', ['h1', 'h2'])", roots)
        #expect(zoning["hosts"] == ["h1", "h2"], "shared, not zoned: presumed on every host")
        #expect(zoning["presumed"] == true)
        #expect(try eval("datastores | zoning('ds', ['h1'])", roots)["hosts"] == .null, "not in the inventory")
    }
}
