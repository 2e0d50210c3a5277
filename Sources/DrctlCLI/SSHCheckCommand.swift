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
        discussion: HelpText.unwrapped("""
        One row per host: TCP reachable or not, the authentication method and its result, the host
        key status and fingerprint, the command run to prove the session works (`esxcli system
        version get` on ESXi, `service-control --status --all` on a vCenter appliance), its result and
        round-trip time. A host is OK only when that command ran and exited 0. Run it before an
        incident, and first thing during one. Exits 1 when any host has a problem.

        Example:
          drctl ssh-check --inventory site.yaml
        """)
    )

    @Option(help: "The inventory file.") var inventory: String
    @Option(help: "Seconds to wait for the check command once logged in.") var commandTimeout: Int = 30
    @OptionGroup var ssh: SSHFlags

    struct Row {
        var host: String
        var reachable = "no"
        var authentication = ""
        var hostKey = ""
        var checked = ""
        var result = ""
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
        warnAboutShortSecrets(in: loaded)
        let redactor = Redactor()
        let transport = ssh.transport(for: loaded, events: ConnectionLog(echo: false, redactor: redactor), redactor: redactor)
        let rows = await withTaskGroup(of: (Int, Row).self) { group in
            for (index, host) in loaded.hosts.enumerated() {
                group.addTask { (index, await Self.check(host, transport, commandTimeout: .seconds(max(1, commandTimeout)))) }
            }
            var rows = [Row?](repeating: nil, count: loaded.hosts.count)
            for await (index, row) in group { rows[index] = row }
            return rows.compactMap { $0 }
        }
        print(Self.table(rows))
        throw ExitCode(rows.allSatisfy { $0.problem.isEmpty } ? 0 : 1)
    }

    static func check(_ host: Inventory.Host, _ transport: SSHTransport, commandTimeout: Duration) async -> Row {
        var row = Row(host: host.name)
        let command = host.role == .vcsa ? ESXiCommand.applianceServiceStatus : ESXiCommand.versionGet
        do {
            let info = try await transport.check(host)
            row.reachable = "yes"
            row.authentication = "\(info.authMethod) ok"
            row.hostKey = "\(info.hostKeyStatus.hasPrefix("accepted") ? "accepted" : info.hostKeyStatus) \(info.fingerprint)"
            row.checked = command
            let clock = ContinuousClock.now
            let result = try await transport.execute(command, on: host, timeout: commandTimeout)
            row.roundTrip = DurationText.format(ContinuousClock.now - clock)
            (row.result, row.problem) = verdict(result, role: host.role)
        } catch let error as TransportError {
            switch error.kind {
            case .authenticationFailed:
                row.reachable = "yes"
                row.authentication = "FAILED"
            case .hostKeyUnknown, .hostKeyMismatch, .noCommonAlgorithm:
                row.reachable = "yes"
                row.hostKey = error.kind.rawValue.uppercased()
            case .commandTimedOut, .timedOut, .sessionDropped:
                // Logged in, but the command never answered: the host is not usable.
                if !row.checked.isEmpty { row.result = error.kind == .sessionDropped ? "session dropped" : "command timed out" }
            default: break
            }
            row.problem = "\(error.detail)" + (error.hint.isEmpty ? "" : " (\(error.hint))")
        } catch {
            row.problem = "\(error)"
        }
        return row
    }

    /// What the check command proved: a result when it exited 0 with the output expected, else a problem.
    static func verdict(_ result: CommandResult, role: Inventory.Host.Role) -> (result: String, problem: String) {
        guard result.exitStatus == 0 else {
            return ("exit \(result.exitStatus)", "the check command exited \(result.exitStatus): \(firstLine(result.combinedText))")
        }
        if role == .vcsa {
            let services = ServiceControlParser.parse(result.stdout)
            guard !services.running.isEmpty || !services.stopped.isEmpty else {
                return ("no service list", "service-control printed no service list: \(firstLine(result.combinedText))")
            }
            return ("\(services.running.count) services running, \(services.stopped.count) stopped", "")
        }
        guard let version = try? VersionParser.parse(result.stdout) else {
            return ("not ESXi?", "esxcli printed no ESXi version: \(firstLine(result.combinedText))")
        }
        return (version.summary, "")
    }

    static func table(_ rows: [Row]) -> String {
        let headers = ["HOST", "TCP", "AUTH", "HOST KEY", "CHECKED WITH", "RESULT", "RTT"]
        let cells = rows.map { [$0.host, $0.reachable, $0.authentication, $0.hostKey, $0.checked, $0.result, $0.roundTrip] }
        let widths = headers.indices.map { column in max(headers[column].count, cells.map { $0[column].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingBlanks()
        }
        var lines = [line(headers)] + cells.map(line)
        for row in rows where !row.problem.isEmpty { lines.append("\(row.host): \(row.problem)") }
        return lines.joined(separator: "\n")
    }
}

extension CommandResult {
    var combinedText: String { stdout + stderr }
}
