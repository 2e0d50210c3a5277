import Foundation

/// Where a run keeps its record: `RUNS/RUN-ID/journal.jsonl` and `outputs/` for large output.
public struct RunDirectory: Sendable {
    public let id: String
    public let url: URL

    public var journal: URL { url.appendingPathComponent("journal.jsonl") }
    public var outputs: URL { url.appendingPathComponent("outputs") }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates `runsDirectory/id` (and `outputs/` in it); refuses to reuse an existing run.
    public static func create(id: String, in runsDirectory: String) throws -> RunDirectory {
        let url = URL(fileURLWithPath: runsDirectory).appendingPathComponent(id)
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw Problem(description: "\(url.path) already exists; a run directory is never reused")
        }
        do {
            try FileManager.default.createDirectory(at: url.appendingPathComponent("outputs"), withIntermediateDirectories: true)
        } catch {
            throw Problem(description: "cannot create the run directory \(url.path): \(error.localizedDescription); choose another with --runs-dir")
        }
        return RunDirectory(id: id, url: url)
    }
}
