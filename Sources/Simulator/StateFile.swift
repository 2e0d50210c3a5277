import Foundation

/// The fleet kept in a JSON file so separate `drctl sim exec` processes (one per SSH command)
/// share it. Every change happens under an exclusive lock on `FILE.lock`, and the file is
/// replaced atomically, so concurrent processes never lose an update.
public struct StateFile: Sendable {
    public let path: String

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
        do {
            return try JSONDecoder().decode(Fleet.self, from: data)
        } catch {
            throw Problem(description: "\(path): not a simulator state file (\(error)); recreate it with drctl sim init")
        }
    }

    private func write(_ fleet: Fleet) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let temporary = path + ".tmp-\(getpid())"
        try encoder.encode(fleet).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw Problem(description: "\(path): cannot replace the state file: \(String(cString: strerror(errno)))")
        }
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
