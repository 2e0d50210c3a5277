import ArgumentParser
import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat
import SSHTransport

/// How `drctl run` and `drctl ssh-check` reach the inventory's hosts: SSH, with host keys
/// verified against known_hosts (or pinned fingerprints) unless told to accept new ones.
struct SSHFlags: ParsableArguments {
    @Flag(help: "Accept and record the keys of hosts not yet in known_hosts (like OpenSSH's accept-new). Mismatches are always refused.")
    var acceptNewHostKeys = false

    @Option(help: "Seconds to wait for name resolution, and then for a TCP connection.")
    var connectTimeout: Int = 10

    /// `outputDirectory`: the run's `outputs/`, where output too large for memory is streamed.
    func transport(for inventory: Inventory, events: ConnectionLog, redactor: Redactor, outputDirectory: String = NSTemporaryDirectory()) -> SSHTransport {
        let settings = SSHTransport.Settings(knownHostsPath: SSHTransport.Settings.defaultKnownHosts(for: inventory),
                                             acceptNewHostKeys: acceptNewHostKeys,
                                             timeouts: SSHTimeouts(connect: .seconds(connectTimeout)), outputDirectory: outputDirectory)
        return SSHTransport(inventory: inventory, settings: settings, redactor: redactor, report: { host, message in events.add(host: host, message) })
    }
}

/// Warns on standard error about passwords and passphrases shorter than 8 characters.
func warnAboutShortSecrets(in inventory: Inventory) {
    for warning in SecretStrength.warnings(for: inventory) { writeToStandardError(warning + "\n") }
}

/// Connection events (connects, host keys used, drops, reconnects): printed as they happen and
/// written to the run's journal.
final class ConnectionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var journal: JournalWriter?
    let echo: Bool
    let redactor: Redactor

    init(echo: Bool, redactor: Redactor) {
        self.echo = echo
        self.redactor = redactor
    }

    func record(into journal: JournalWriter) {
        lock.withLock { self.journal = journal }
    }

    func add(host: String, _ message: String) {
        if echo { Console.shared.writeLogLine(VisibleText.escape(redactor.redact("  ~ \(host): \(message)"))) }
        if let journal = lock.withLock({ self.journal }) {
            Task { await journal.record(.connection(host: host, detail: message)) }
        }
    }
}
