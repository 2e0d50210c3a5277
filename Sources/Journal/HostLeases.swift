import DrctlCore
import Foundation

/// One run per host at a time: a run that may change hosts holds a lease on each inventory host,
/// a file `leases/HOST.lease` in the runs directory naming the run and its process. A second run
/// that would change a leased host is refused, naming the run that holds it. An unfinished run
/// (paused, interrupted, killed) keeps its leases until it is resumed to the end or abandoned.
public struct HostLeases: Sendable {
    public let runsDirectory: String

    public init(runsDirectory: String) { self.runsDirectory = runsDirectory }

    public struct Holder: Sendable, Equatable {
        public var host: String
        public var run: String
        public var pid: Int32
        public var started: String
    }

    public struct Refused: Error, CustomStringConvertible {
        public var holders: [Holder]
        public var description: String {
            let named = holders.map { "\($0.host) is leased by run \($0.run) (pid \($0.pid), since \($0.started))" }.joined(separator: "; ")
            let runs = Set(holders.map(\.run)).sorted()
            return "\(named). Two runs changing one host could repeat each other's changes. Wait for it, go on with it "
                + "(drctl resume \(runs[0])), or give it up with `drctl runs abandon \(runs[0]) --reason TEXT`; --ignore-leases overrides this (and is recorded)"
        }
    }

    var directory: URL { URL(fileURLWithPath: runsDirectory).appendingPathComponent("leases") }

    /// Takes a lease on each host for `run`, or throws `Refused` naming the runs that hold some.
    /// Leases of runs that have ended (or been abandoned) are taken over.
    public func take(_ hosts: [String], for run: String) throws {
        try withLock {
            var refused: [Holder] = []
            for host in hosts {
                if let holder = holder(of: host), holder.run != run, !Self.hasEnded(holder.run, in: runsDirectory) { refused.append(holder) }
            }
            guard refused.isEmpty else { throw Refused(holders: refused) }
            let started = Timestamp.seconds(from: Date())
            for host in hosts {
                let text = "{\"run\":\"\(run)\",\"pid\":\(getpid()),\"started\":\"\(started)\"}\n"
                try Data(text.utf8).write(to: file(host), options: .atomic)
                if Failpoint.reached("lease") { Failpoint.crash() }
            }
        }
    }

    /// Gives up every lease `run` holds (it ended, or was abandoned).
    public func release(run: String) {
        try? withLock {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasSuffix(".lease") {
                let host = String(name.dropLast(".lease".count))
                if holder(of: host)?.run == run { try? FileManager.default.removeItem(at: file(host)) }
            }
        }
    }

    /// Who holds a host's lease, if anyone.
    public func holder(of host: String) -> Holder? {
        guard let data = FileManager.default.contents(atPath: file(host).path),
              let fields = JournalJSON.object(from: data), let run = fields["run"] as? String else { return nil }
        return Holder(host: host, run: run, pid: Int32(fields["pid"] as? Int ?? 0), started: fields["started"] as? String ?? "")
    }

    private func file(_ host: String) -> URL {
        directory.appendingPathComponent(String(host.map { $0.isLetter || $0.isNumber || "-._".contains($0) ? $0 : "_" }) + ".lease")
    }

    /// A run has ended when its journal says so (run-ended with a final outcome, or run-abandoned).
    static func hasEnded(_ run: String, in runsDirectory: String) -> Bool {
        guard let journal = RecordedJournal.load(run: run, in: runsDirectory) else { return true }
        for entry in journal.entries.reversed() {
            switch entry["type"] as? String {
            case "run-abandoned": return true
            case "run-ended": return entry["outcome"].map { !["interrupted", "stopped at an approval", "stopped: its record could not be written"].contains("\($0)") } ?? true
            case "run-started", "run-resumed": return false
            default: continue
            }
        }
        return false
    }

    /// Check-and-take is one step for every process sharing the runs directory.
    private func withLock<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let descriptor = open(directory.appendingPathComponent(".lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(descriptor) }
        flock(descriptor, LOCK_EX)
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
