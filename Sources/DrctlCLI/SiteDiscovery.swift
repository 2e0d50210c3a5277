import DrctlCore
import Engine
import ESXi
import Foundation
import RunbookFormat
import Simulator

/// `drctl whatif --discover`: the site as its hosts say it is now, read over SSH with read-only
/// commands only (version, memory, mounts, registered VMs, running VMs), so a what-if starts from
/// today's placement instead of the inventory's. Hosts that do not answer are taken as down.
enum SiteDiscovery {
    static let reads = [ESXiCommand.versionGet, ESXiCommand.hostSummary, ESXiCommand.filesystemList, ESXiCommand.getAllVMs, ESXiCommand.processList]

    struct Found {
        var fleet: Fleet
        /// What the operator should know: hosts that did not answer, reads that failed.
        var notes: [String]
    }

    static func discover(_ inventory: Inventory, through transport: any Transport, seed: UInt64) async -> Found {
        let hosts = inventory.hosts.filter { $0.role == .esxi }
        var outputs: [RecordedSite.Output] = []
        var notes: [String] = []
        var silent = Set<String>()
        await withTaskGroup(of: (host: String, outputs: [RecordedSite.Output], problem: String?).self) { group in
            for host in hosts {
                group.addTask {
                    var found: [RecordedSite.Output] = []
                    for command in reads {
                        precondition(ESXiCommand.onlyReads(command), "discovery runs reads only")
                        do {
                            let result = try await transport.execute(command, on: host, timeout: .seconds(60))
                            found.append(RecordedSite.Output(host: host.name, command: command, stdout: result.stdout, exitStatus: Int(result.exitStatus)))
                        } catch {
                            return (host.name, found, "\(host.name) did not answer `\(command)` (\(error)): taken as down")
                        }
                    }
                    return (host.name, found, nil)
                }
            }
            for await answer in group {
                outputs += answer.outputs
                if let problem = answer.problem {
                    notes.append(problem)
                    silent.insert(answer.host)
                }
            }
        }
        // A host that answered some reads but not all is not trusted with VMs it may not have listed.
        let site = RecordedSite(outputs: outputs.filter { !silent.contains($0.host) }, inventory: inventory, seed: seed)
        var fleet = Fleet(hosts: site.hosts, datastores: site.datastores, vms: site.vms, vcenter: nil, faults: [], seed: seed)
        fleet.numberRegistrations()
        return Found(fleet: fleet, notes: (notes + site.notes).sorted())
    }
}
