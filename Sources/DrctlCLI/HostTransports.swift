import ArgumentParser
import Engine
import RunbookFormat

/// Chooses how `drctl run` reaches the inventory's hosts.
enum HostTransports {
    static func make(for inventory: Inventory) throws -> any Transport {
        // The libssh2 transport (issue 5) plugs in here; until then real hosts are refused.
        writeError("drctl run: this build has no SSH transport yet; use --dry-run --offline, or drills against the simulator")
        throw ExitCode(ExitStatus.invalidInput)
    }
}
