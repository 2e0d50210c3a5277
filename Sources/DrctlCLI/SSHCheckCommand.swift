import ArgumentParser
import DrctlCore
import Engine
import ESXi
import Foundation
import RunbookFormat
import SSHTransport

struct SSHCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh-check",
        abstract: "Connect to every host of an inventory, in parallel, and report what works.",
        discussion: """
        One row per host: reachable or not, the authentication method and its result, the host key
        status and fingerprint, the ESXi version (esxcli system version get) and the round-trip
        time of that command. Run it before an incident, and first thing during one. Exits 1 when
        any host fails.

        Example:
          drctl ssh-check --inventory site.yaml
        """
    )

    @Option(help: "The inventory file.") var inventory: String
    @OptionGroup var ssh: SSHFlags

    struct Row {
        var host: String
        var reachable = "no"
        var authentication = ""
        var hostKey = ""
        var version = ""
        var roundTrip = ""
        var problem = ""
    }

    func run() async throws {
        let loaded: Inventory
        do {
            loaded = try InventoryLoader.load(path: inventory)
        } catch let invalid as InvalidInput {
            throw failInvalidInput(invalid.diagnostics.map(\.description))
        }
        let redactor = Redactor()
        let transport = ssh.transport(for: loaded, events: ConnectionLog(echo: false, redactor: redactor), redactor: redactor)
        let rows = await withTaskGroup(of: (Int, Row).self) { group in
            for (index, host) in loaded.hosts.enumerated() {
                group.addTask { (index, await Self.check(host, transport)) }
            }
            var rows = [Row?](repeating: nil, count: loaded.hosts.count)
            for await (index, row) in group { rows[index] = row }
            return rows.compactMap { $0 }
        }
        print(Self.table(rows))
        throw ExitCode(rows.allSatisfy { $0.problem.isEmpty } ? 0 : 1)
    }

    static func check(_ host: Inventory.Host, _ transport: SSHTransport) async -> Row {
        var row = Row(host: host.name)
        do {
            let info = try await transport.check(host)
            row.reachable = "yes"
            row.authentication = "\(info.authMethod) ok"
            row.hostKey = "\(info.hostKeyStatus.hasPrefix("accepted") ? "accepted" : info.hostKeyStatus) \(info.fingerprint)"
            let clock = ContinuousClock.now
            let result = try await transport.execute(ESXiCommand.versionGet, on: host, timeout: .seconds(30))
            row.roundTrip = DurationText.format(ContinuousClock.now - clock)
            if host.role == .esxi {
                row.version = (try? VersionParser.parse(result.stdout).summary) ?? "not ESXi? (\(firstLine(result.combinedText)))"
            } else {
                row.version = "vCenter appliance"
            }
        } catch let error as TransportError {
            switch error.kind {
            case .authenticationFailed:
                row.reachable = "yes"
                row.authentication = "FAILED"
            case .hostKeyUnknown, .hostKeyMismatch:
                row.reachable = "yes"
                row.hostKey = error.kind.rawValue.uppercased()
            default: break
            }
            row.problem = "\(error.detail)" + (error.hint.isEmpty ? "" : " (\(error.hint))")
        } catch {
            row.problem = "\(error)"
        }
        return row
    }

    static func table(_ rows: [Row]) -> String {
        let headers = ["HOST", "REACHABLE", "AUTH", "HOST KEY", "ESXI VERSION", "RTT"]
        let cells = rows.map { [$0.host, $0.reachable, $0.authentication, $0.hostKey, $0.version, $0.roundTrip] }
        let widths = headers.indices.map { column in max(headers[column].count, cells.map { $0[column].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        var lines = [line(headers)] + cells.map(line)
        for row in rows where !row.problem.isEmpty { lines.append("\(row.host): \(row.problem)") }
        return lines.joined(separator: "\n")
    }
}

extension CommandResult {
    var combinedText: String { stdout + stderr }
}
