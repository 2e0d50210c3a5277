import ArgumentParser
import Engine
import Foundation
import RunbookFormat
import SSHTransport

/// How `drctl run` and `drctl ssh-check` reach the inventory's hosts: SSH, with host keys
/// verified against known_hosts (or pinned fingerprints) unless told to accept new ones.
struct SSHFlags: ParsableArguments {
    @Flag(help: "Accept and record the keys of hosts not yet in known_hosts (like OpenSSH's accept-new). Mismatches are always refused.")
    var acceptNewHostKeys = false

    @Option(help: "Seconds to wait for a TCP connection.")
    var connectTimeout: Int = 10

    func transport(for inventory: Inventory, events: ConnectionLog) -> SSHTransport {
        let settings = SSHTransport.Settings(knownHostsPath: SSHTransport.Settings.defaultKnownHosts(for: inventory),
                                             acceptNewHostKeys: acceptNewHostKeys,
                                             timeouts: SSHTimeouts(connect: .seconds(connectTimeout)))
        return SSHTransport(inventory: inventory, settings: settings, report: { host, message in events.add(host: host, message) })
    }
}

/// Connection events (connects, host keys used, drops, reconnects), printed as they happen.
final class ConnectionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    let echo: Bool

    init(echo: Bool) { self.echo = echo }

    func add(host: String, _ message: String) {
        let line = "  ~ \(host): \(message)"
        lock.withLock { entries.append(line) }
        if echo { print(line) }
    }

    var all: [String] { lock.withLock { entries } }
}
