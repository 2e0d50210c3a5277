import Foundation

/// The fleet kept in a JSON file so separate `drctl sim exec` processes (one per SSH command)
/// share it. Every change happens under an exclusive lock on `FILE.lock`, and the file is
/// replaced atomically, so concurrent processes never lose an update.
///
/// An in-process drill appends each command that changed the fleet to `FILE.log` instead of
/// rewriting the whole fleet (which, per command, made a 2,000-VM drill quadratic), and writes a
/// whole snapshot now and then; reading replays the log over the snapshot.
public struct StateFile: Sendable {
    public let path: String
    var logPath: String { path + ".log" }

    /// One command replayed on reading: `host` ran `command` at `at` (the fleet's milliseconds),
    /// or `finishedStep` ended (after_step faults). `sequence` orders it after the snapshot.
    public struct Change: Codable, Sendable {
        public var sequence: Int
        public var at: Int
        public var host: String?
        public var command: String?
        public var finishedStep: String?

        public init(sequence: Int, at: Int, host: String? = nil, command: String? = nil, finishedStep: String? = nil) {
            self.sequence = sequence
            self.at = at
            self.host = host
            self.command = command
            self.finishedStep = finishedStep
        }
    }

    /// Adds one change after the snapshot (a line written with O_APPEND: it survives the process).
    public func append(_ change: Change) throws {
        var line = try JSONEncoder().encode(change)
        line.append(UInt8(ascii: "\n"))
        try withLock {
            let descriptor = open(logPath, O_WRONLY | O_CREAT | O_APPEND, 0o666)
            guard descriptor >= 0 else { throw Problem(description: "\(logPath): \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            let written = line.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written == line.count else { throw Problem(description: "\(logPath): cannot append: \(String(cString: strerror(errno)))") }
        }
    }

    public init(path: String) {
        self.path = path
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public func create(_ fleet: Fleet) throws {
        try withLock { try write(fleet) }
    }

    public func read() throws -> Fleet {
        try withLock { try load() }
    }

    /// Reads, changes and writes the fleet while holding the lock.
    public func update<T>(_ body: (inout Fleet) throws -> T) throws -> T {
        try withLock {
            var fleet = try load()
            let result = try body(&fleet)
            try write(fleet)
            return result
        }
    }

    private func load() throws -> Fleet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "\(path): no simulator state here; create it with drctl sim init --scenario FILE --state \(path)")
        }
        var fleet: Fleet
        do {
            fleet = try JSONDecoder().decode(Fleet.self, from: data)
        } catch {
            throw Problem(description: "\(path): not a simulator state file (\(error)); recreate it with drctl sim init")
        }
        // The changes after the snapshot, as the drill made them (a torn last line was never acted on).
        let log = FileManager.default.contents(atPath: logPath) ?? Data()
        for line in log.split(separator: UInt8(ascii: "\n")) {
            guard let change = try? JSONDecoder().decode(Change.self, from: line), change.sequence > (fleet.stateSequence ?? 0) else { continue }
            fleet.replay(change)
        }
        return fleet
    }

    /// The OS's own words for a failed write (Foundation's error text is a dump of its domain,
    /// code and user info), e.g. "No space left on device".
    static func reason(_ error: Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying.map({ Int32($0.code) }), underlying?.domain == NSPOSIXErrorDomain { return String(cString: strerror(code)) }
        if (error as NSError).code == NSFileWriteOutOfSpaceError { return String(cString: strerror(ENOSPC)) }
        return (error as NSError).localizedFailureReason ?? error.localizedDescription
    }

    private func write(_ fleet: Fleet) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let temporary = path + ".tmp-\(getpid())"
        do {
            try encoder.encode(fleet).write(to: URL(fileURLWithPath: temporary))
        } catch {
            unlink(temporary)
            throw Problem(description: "\(temporary): cannot write the simulated fleet's state: \(Self.reason(error)); free space on that disk")
        }
        guard rename(temporary, path) == 0 else {
            throw Problem(description: "\(path): cannot replace the state file: \(String(cString: strerror(errno)))")
        }
        // The snapshot holds every change logged so far (a log line left by a crash here is
        // skipped by its sequence).
        unlink(logPath)
    }

    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let descriptor = open(path + ".lock", O_RDWR | O_CREAT, 0o666)
        guard descriptor >= 0 else { throw Problem(description: "\(path).lock: \(String(cString: strerror(errno)))") }
        // Behind sshd the login user's `sim exec` shares the lock with the drill's own process.
        fchmod(descriptor, 0o666)
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw Problem(description: "\(path).lock: cannot lock: \(String(cString: strerror(errno)))") }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
