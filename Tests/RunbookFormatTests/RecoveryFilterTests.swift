import DrctlCore
import Foundation
@testable import RunbookFormat
import Testing

/// The filters recovery runbooks read as sentences: matching files to VMs, placement, mounts.
@Suite("recovery filters")
struct RecoveryFilterTests {
    let inventory: Value = [
        ["name": "crm-app", "vmx": .null, "priority": 1, "last_host": "esxi-01", "power_on": true],
        ["name": "crm-old", "vmx": "[ds1] crm-legacy/crm-legacy.vmx", "priority": 4, "last_host": "esxi-02", "power_on": true],
        ["name": "billing", "vmx": "/vmfs/volumes/uuid-1/billing/billing.vmx", "priority": 2, "last_host": "esxi-01", "power_on": false],
    ]
    let datastores: Value = [["name": "ds1", "uuid": "uuid-1"]]

    func eval(_ text: String, _ roots: [String: Value]) throws -> Value {
        try ExpressionEvaluator.evaluate(try ExpressionParser.parse(text), in: DictionaryScope(roots))
    }

    @Test("match_inventory: by path (UUID forms included), then displayName, then folder; a decoy folder does not steal a VM")
    func matching() throws {
        let found: Value = [
            ["file": "[ds1] crm-old/crm-old.vmx", "folder": "crm-old", "display_name": "crm-app", "name": "crm-app", "host": "esxi-03"],
            ["file": "[ds1] billing/billing.vmx", "folder": "billing", "name": "billing"],
            ["file": "[ds1] stray/stray.vmx", "folder": "stray", "name": "stray"],
        ]
        let matched = try eval("found | match_inventory(inventory, datastores)", ["found": found, "inventory": inventory, "datastores": datastores]).listValue!
        #expect(matched[0]["name"] == "crm-app" && matched[0]["matched_by"] == "display name" && matched[0]["priority"] == 1)
        #expect(matched[0]["found_by"] == "esxi-03" && matched[0]["last_host"] == "esxi-01")
        #expect(matched[1]["matched_by"] == "path" && matched[1]["power_on"] == false)
        #expect(matched[2]["matched_by"] == .null)
    }

    @Test("not_registered, registrations, hosts_mounting, intersect")
    func others() throws {
        let registered: Value = [["file": "/vmfs/volumes/uuid-1/a/a.vmx", "name": "a", "host": "h1"]]
        let roots: [String: Value] = ["found": [["file": "[ds1] a/a.vmx"], ["file": "[ds1] b/b.vmx"]], "registered": registered, "datastores": datastores,
                                      "filesystems": [["host": "h2", "volume_name": "ds1", "mounted": true], ["host": "h1", "volume_name": "ds1", "mounted": true],
                                                      ["host": "h3", "volume_name": "ds1", "mounted": false]]]
        #expect(try eval("found | not_registered(registered, datastores) | map('file')", roots) == ["[ds1] b/b.vmx"])
        #expect(try eval("registered | registrations('[ds1] a/a.vmx', datastores) | count", roots) == 1)
        #expect(try eval("registered | registrations({{}}) | count".replacingOccurrences(of: "{{}}", with: "found[1]"), roots) == 0)
        #expect(try eval("filesystems | hosts_mounting('ds1')", roots) == ["h1", "h2"])
        #expect(try eval("['h3', 'h1', 'h2'] | intersect(['h2', 'h3'])", roots) == ["h3", "h2"])
    }

    @Test("registrations' index holds a site's VM list only while runs may still ask it (one per core), not one per run that ever did")
    func indexLetsEndedRunsGo() throws {
        var site: [Value] = (0..<50).map { ["file": .string("[ds1] vm-\($0)/vm-\($0).vmx"), "name": .string("vm-\($0)")] }
        let first = site.withUnsafeBufferPointer { $0.baseAddress }
        _ = RecoveryFilters.registrationIndexes.index(of: site, labels: [:])
        // Later runs each index a site list of their own, as a what-if's failures do.
        for run in 0..<(ProcessInfo.processInfo.activeProcessorCount + 2) {
            let other: [Value] = (0..<50).map { ["file": .string("[ds\(run)] vm-\($0)/vm-\($0).vmx")] }
            _ = RecoveryFilters.registrationIndexes.index(of: other, labels: [:])
        }
        // Written in place only if nothing else holds the list any more: the index let it go.
        site[0] = "changed"
        #expect(site.withUnsafeBufferPointer { $0.baseAddress } == first)
    }

    @Test("place: only hosts that mount the datastore, back where it ran when it fits, no memory for VMs left off, ties by name")
    func placement() throws {
        let hosts: [Value] = [["host": "b", "free_memory_mb": 1000], ["host": "a", "free_memory_mb": 1000], ["host": "big", "free_memory_mb": 9000]]
        let filesystems: [Value] = [["host": "a", "volume_name": "ds1", "mounted": true], ["host": "b", "volume_name": "ds1", "mounted": true],
                                    ["host": "big", "volume_name": "ds2", "mounted": true]]
        let vms: [Value] = [["name": "x", "datastore": "ds1", "memory_mb": 600], ["name": "y", "datastore": "ds1", "memory_mb": 600, "last_host": "b"],
                            ["name": "off", "datastore": "ds1", "memory_mb": 5000, "power_on": false]]
        let placed = try Placement.place(vms, hosts: hosts, policy: CapacityPolicy(), filesystems: filesystems).listValue!
        #expect(placed[1]["target_host"] == "b", "back where it ran")
        #expect(placed[0]["target_host"] == "a", "a tie broken by name, never by list order")
        #expect(placed[0]["eligible_hosts"] == ["a", "b"], "big does not mount ds1")
        #expect(placed[2]["target_host"] != .null, "a VM left off takes no memory")
        let reversed = try Placement.place(vms, hosts: hosts.reversed(), policy: CapacityPolicy(), filesystems: filesystems.reversed()).listValue!
        #expect(reversed.map { $0["target_host"] } == placed.map { $0["target_host"] })
    }

    @Test("format writes ? for a field the map lacks, never the placeholder")
    func formatMissing() throws {
        let missing = MissingFields()
        let shown = try MissingFields.$current.withValue(missing) { try eval("vms | format('{name} (priority {priority})')", ["vms": [["name": "a"]]]) }
        #expect(shown == ["a (priority ?)"])
        #expect(missing.fields == ["priority of a"])
    }
}
