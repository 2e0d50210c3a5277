import Foundation
import RunbookFormat
import Yams

/// Writes a site as a scenario file (docs/simulator.md) that `ScenarioLoader` reads back.
public enum ScenarioWriter {
    public static func yaml(name: String, description: String, seed: UInt64, hosts: [SimHost], datastores: [SimDatastore], vms: [SimVM],
                            expectOutcome: String?, expect: [Scenario.Expectation] = []) throws -> String {
        let scalar = InventoryWriter.scalar, mapping = InventoryWriter.mapping
        func list(_ items: [String]) -> Node { .sequence(Node.Sequence(items.map(scalar), .implicit, .flow)) }
        let hostNodes = hosts.map { host -> Node in
            var fields: [(String, Node)] = [("name", scalar(host.name)), ("address", scalar(host.address)), ("version", scalar(host.version)),
                                            ("build", scalar(host.build)), ("memory_mb", scalar(String(host.memoryMB)))]
            if host.state != .up { fields.append(("state", scalar(host.state.rawValue))) }
            if host.maintenanceMode { fields.append(("maintenance", scalar("true"))) }
            if !host.vmks.isEmpty {
                fields.append(("vmks", .sequence(Node.Sequence(host.vmks.map { vmk in
                    mapping([("name", scalar(vmk.name)), ("address", scalar(vmk.address)), ("portgroup", scalar(vmk.portgroup))], true)
                }))))
            }
            return mapping(fields, false)
        }
        let datastoreNodes = datastores.map { datastore in
            mapping([("name", scalar(datastore.name)), ("uuid", scalar(datastore.uuid)), ("type", scalar(datastore.type)),
                     ("capacity_gb", scalar(String(max(1, datastore.capacityBytes >> 30)))), ("free_gb", scalar(String(datastore.freeBytes >> 30))),
                     ("hosts", list(datastore.hosts))], true)
        }
        let vmNodes = vms.map { vm -> Node in
            var fields: [(String, Node)] = [("name", scalar(vm.name)), ("datastore", scalar(vm.datastore)), ("path", scalar(vm.path))]
            if let host = vm.registration?.host { fields.append(("host", scalar(host))) }
            fields += [("power", scalar(vm.power.rawValue)), ("guest_os", scalar(vm.guestOS)), ("version", scalar(vm.hardwareVersion)),
                       ("memory_mb", scalar(String(vm.memoryMB))), ("priority", scalar(String(vm.priority)))]
            if !vm.dependsOn.isEmpty { fields.append(("depends_on", list(vm.dependsOn))) }
            if let group = vm.antiAffinity { fields.append(("anti_affinity", scalar(group))) }
            if vm.keepOff == true { fields.append(("power_on", scalar("false"))) }
            if vm.hasTools == false { fields.append(("tools", scalar("false"))) }
            return mapping(fields, true)
        }
        var root: [(String, Node)] = [("scenario", scalar(name)), ("description", scalar(description)), ("seed", scalar(String(seed))),
                                      ("hosts", .sequence(Node.Sequence(hostNodes))), ("datastores", .sequence(Node.Sequence(datastoreNodes))),
                                      ("vms", .sequence(Node.Sequence(vmNodes)))]
        if let expectOutcome { root.append(("expect_outcome", scalar(expectOutcome))) }
        let checks = expect.compactMap { expectation -> Node? in
            switch expectation {
            case .vm(let name, let power, _, _, let registeredOnce):
                return mapping([("vm", scalar(name))] + (power.map { [("power", scalar($0.rawValue))] } ?? [])
                               + (registeredOnce ? [("registered", scalar("true"))] : []), true)
            case .datastore(let name, let mountedOn):
                return mapping([("datastore", scalar(name)), ("mounted_on", list(mountedOn))], true)
            default:
                return nil
            }
        }
        if !checks.isEmpty { root.append(("expect", .sequence(Node.Sequence(checks)))) }
        return try Yams.serialize(node: mapping(root, false), width: -1)
    }
}
