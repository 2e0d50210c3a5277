import DrctlCore
import Foundation

/// Where a run keeps its record: `RUNS/RUN-ID/journal.jsonl` and `outputs/` for large output.
public struct RunDirectory: Sendable {
    public let id: String
    public let url: URL

    public var journal: URL { url.appendingPathComponent("journal.jsonl") }
    public var outputs: URL { url.appendingPathComponent("outputs") }

    /// Where run `id`'s large outputs will go, before its directory exists.
    public static func outputs(id: String, in runsDirectory: String) -> String {
        URL(fileURLWithPath: runsDirectory).appendingPathComponent(id).appendingPathComponent("outputs").path
    }
    /// A drill's simulated fleet, saved after every command so a killed drill can be resumed.
    public var fleetState: URL { url.appendingPathComponent(Self.fleetStateName) }
    public static let fleetStateName = "fleet.json"

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// An existing run's directory, for resume and review.
    public static func existing(id: String, in runsDirectory: String) throws -> RunDirectory {
        let url = URL(fileURLWithPath: runsDirectory).appendingPathComponent(id)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("journal.jsonl").path) else {
            let known = RecordedRun.all(in: runsDirectory).suffix(5).map(\.id)
            throw Problem(description: "no run \(id) in \(runsDirectory)" + (known.isEmpty ? " (it holds no runs; pass --runs-dir DIR)" : "; recent runs: \(known.joined(separator: ", ")) (drctl runs lists them all)"))
        }
        return RunDirectory(id: id, url: url)
    }

    /// Creates `runsDirectory/id` (and `outputs/` in it); refuses to reuse an existing run.
    public static func create(id: String, in runsDirectory: String) throws -> RunDirectory {
        let url = URL(fileURLWithPath: runsDirectory).appendingPathComponent(id)
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw Problem(description: "\(url.path) already exists; a run directory is never reused")
        }
        do {
            // The runs directory may be shared; a run's record is its operator's alone (0700).
            try FileManager.default.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try FileManager.default.createDirectory(at: url.appendingPathComponent("outputs"), withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw Problem(description: "cannot create the run directory \(url.path): \(error.localizedDescription); choose another with --runs-dir")
        }
        return RunDirectory(id: id, url: url)
    }
}

/// Held while a process writes a run's journal, so a second `drctl resume` cannot write the same
/// run at the same time. The kernel releases it when the process ends, however it ends.
public final class RunLock: Sendable {
    private let descriptor: Int32

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}

extension RunDirectory {
    /// Takes the run's lock, or says which process holds it.
    public func lock() throws -> RunLock {
        let path = url.appendingPathComponent("lock").path
        let descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw Problem(description: "\(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingWhitespace() ?? ""
            close(descriptor)
            throw Problem(description: "run \(id) is still in progress in another drctl process\(holder.isEmpty ? "" : " (\(holder))"); "
                          + "wait for it to end, or stop it with Ctrl-C, then resume")
        }
        ftruncate(descriptor, 0)
        let holder = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        _ = holder.withCString { write(descriptor, $0, strlen($0)) }
        return RunLock(descriptor: descriptor)
    }
}
