import Engine
import Foundation
import RunbookFormat

/// Used by `--dry-run --offline`: the engine plans every step, so this is never asked to connect.
/// If it ever is, it refuses rather than touch a host.
struct OfflineTransport: Transport {
    func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        throw TransportError(.unsupported, host: host.name, detail: "an offline dry-run contacts no host")
    }

    func probe(_ request: ProbeRequest) async -> ProbeResult {
        ProbeResult(state: .down, detail: "an offline dry-run contacts no host")
    }
}
