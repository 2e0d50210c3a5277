import DrctlCore
import Foundation

/// Hosts that accepted a read and never answered it within the read timeout (a stuck hostd or
/// storage stack), for the rest of the run: later reads on several hosts go on without them at
/// once instead of paying the timeout again in every step. A step that needs the host itself
/// (a change, a wait, a read on that host alone) asks it again, and an answer clears the mark.
final class SilentHosts: @unchecked Sendable {
    private let lock = NSLock()
    private var silent: [String: String] = [:]

    /// Why the host is left out of reads, or nil when it is not.
    func reason(_ host: String) -> String? { lock.withLock { silent[host] } }

    func markSilent(_ host: String, because reason: String) {
        lock.withLock { if silent[host] == nil { silent[host] = reason } }
    }

    func answered(_ host: String) {
        lock.withLock { _ = silent.removeValue(forKey: host) }
    }
}
