import Foundation

/// Crash injection for the crash tests: `DRCTL_FAILPOINT=NAME:N` kills this process with SIGKILL
/// the N-th time the point named NAME is passed (`NAME:N:torn` lets the caller cut its write
/// short first). Points: every journal event type (after the line is on disk) and `host-change`
/// (after the simulator applied and saved a change, before drctl hears of it), `lease` (after the
/// N-th host lease file is written). `write-error:N`
/// (`write-error:N:EIO`) makes the N-th write of the run's record fail with ENOSPC (or EIO)
/// instead; `write-error-line:S` makes the write that carries journal line S fail with ENOSPC
/// half-way through that line (its ending, line by line, whatever the timing). Unset, each check
/// is one comparison.
public enum Failpoint {
    public struct Armed: Sendable {
        public var name: String
        public var count: Int
        public var torn: Bool
    }

    public static let armed: Armed? = {
        guard let text = ProcessInfo.processInfo.environment["DRCTL_FAILPOINT"] else { return nil }
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count >= 2, let count = Int(parts[1]), count > 0 else { return nil }
        return Armed(name: parts[0], count: count, torn: parts.count > 2 && parts[2] == "torn")
    }()

    nonisolated(unsafe) private static var passed = 0
    private static let lock = NSLock()

    /// True when this pass of `name` is the armed one; the caller then calls `crash()`.
    public static func reached(_ name: String) -> Bool {
        guard let armed, armed.name == name else { return false }
        lock.lock()
        defer { lock.unlock() }
        passed += 1
        return passed == armed.count
    }

    public static var tears: Bool { armed?.torn ?? false }

    /// Whether the journal line numbered `sequence` is the one `write-error-line:S` fails.
    public static func failsWrite(ofLine sequence: Int) -> Bool {
        guard let armed, armed.name == "write-error-line" else { return false }
        return armed.count == sequence
    }

    /// At the armed `write-error` point: the errno the write fails with; nil otherwise.
    public static func injectedWriteError() -> Int32? {
        guard reached("write-error") else { return nil }
        return ProcessInfo.processInfo.environment["DRCTL_FAILPOINT"]?.hasSuffix(":EIO") == true ? EIO : ENOSPC
    }

    public static func crash() -> Never {
        kill(getpid(), SIGKILL)
        while true { pause() }
    }
}
