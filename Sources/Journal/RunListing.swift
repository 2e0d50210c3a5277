import Foundation

/// What `drctl runs` shows of one recorded run, read from its journal.
public struct RecordedRun: Sendable {
    public var id: String
    public var runbook: String
    public var started: String
    public var operatorName: String
    /// `succeeded`, `failed`, ... from its run-ended entry, or `unfinished` when it has none.
    public var status: String
    public var durationMilliseconds: Int?

    /// Every run under a runs directory, oldest first.
    public static func all(in runsDirectory: String) -> [RecordedRun] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []).sorted()
        return names.compactMap { name in
            let journal = URL(fileURLWithPath: runsDirectory).appendingPathComponent(name).appendingPathComponent("journal.jsonl")
            guard let data = FileManager.default.contents(atPath: journal.path) else { return nil }
            let entries = data.withUnsafeBytes { bytes in JournalLines.ranges(in: data).compactMap { JournalJSON.object(from: UnsafeRawBufferPointer(rebasing: bytes[$0])) } }
            guard let start = entries.first(where: { $0["type"] as? String == "run-started" }) else { return nil }
            let end = entries.last(where: { $0["type"] as? String == "run-ended" })
            let abandoned = entries.contains { $0["type"] as? String == "run-abandoned" }
            var status = abandoned ? "abandoned" : end?["outcome"] as? String ?? "unfinished"
            let paused = ["unfinished", "interrupted", "stopped at an approval", "stopped: its record could not be written"].contains(status)
            if paused, let pid = runningProcess(URL(fileURLWithPath: runsDirectory).appendingPathComponent(name)) { status = "running (pid \(pid))" }
            return RecordedRun(id: name, runbook: start["runbook"] as? String ?? "?", started: start["time"] as? String ?? "",
                               operatorName: start["operator"] as? String ?? "", status: status, durationMilliseconds: end?["duration_ms"] as? Int)
        }
    }

    /// The drctl process working on a run now, from the pid its lock file names: alive, on this
    /// machine, and a drctl (a reused pid is another program).
    static func runningProcess(_ run: URL) -> Int32? {
        guard let holder = try? String(contentsOf: run.appendingPathComponent("lock"), encoding: .utf8) else { return nil }
        let words = holder.split(whereSeparator: \.isWhitespace)
        guard words.count >= 4, words[0] == "pid", let pid = Int32(words[1]), words[3] == ProcessInfo.processInfo.hostName,
              kill(pid, 0) == 0 || errno == EPERM,
              let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), name.hasPrefix("drctl") else { return nil }
        return pid
    }
}
