import DrctlCore
import Engine
import Foundation

/// A recorded run read back from its journal, tolerating a last line cut off by a crash.
public struct RecordedJournal {
    public var directory: URL
    public var entries: [[String: Any]]
    public var tornLastLine: Bool

    public static func load(run: String, in runsDirectory: String) -> RecordedJournal? {
        loadChecked(run: run, in: runsDirectory, checkingChain: false)?.journal
    }

    /// The journal and the verdict of its hash chain (`JournalChain.verify`), each line read once.
    public static func loadChecked(run: String, in runsDirectory: String) -> (journal: RecordedJournal, chain: JournalChain.Verdict)? {
        loadChecked(run: run, in: runsDirectory, checkingChain: true)
    }

    private static func loadChecked(run: String, in runsDirectory: String, checkingChain: Bool) -> (journal: RecordedJournal, chain: JournalChain.Verdict)? {
        let directory = URL(fileURLWithPath: runsDirectory).appendingPathComponent(run)
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("journal.jsonl").path) else { return nil }
        return data.withUnsafeBytes { bytes in
            let texts = JournalLines.ranges(in: data, keepingEmpty: true).map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
            let parsed = JournalJSON.objects(in: texts)
            // An empty line is skipped; any other line that is not JSON was torn by a crash.
            let journal = RecordedJournal(directory: directory, entries: parsed.compactMap { $0 },
                                          tornLastLine: parsed.indices.contains { parsed[$0] == nil && !texts[$0].isEmpty })
            let chain = checkingChain ? JournalChain.verify(lines: texts, entries: parsed, endsInNewline: data.last == 0x0A, directory: directory)
                                      : JournalChain.Verdict(intact: 0, broken: nil, tornLastLine: false)
            return (journal, chain)
        }
    }

    /// Whether the run is a drill in virtual time (its first line says `clock: virtual`).
    public var isVirtualTime: Bool {
        entries.first { $0["type"] as? String == "run-started" }?["clock"] as? String == "virtual"
    }

    /// For resuming a drill in virtual time: a virtual clock that starts where the record ends.
    public func virtualClockContinuing() -> VirtualClock? {
        guard isVirtualTime else { return nil }
        let last = entries.reversed().lazy.compactMap { ($0["time"] as? String).flatMap(Timestamp.date(from:)) }.first
        return VirtualClock(origin: last ?? Date())
    }

    /// The full text of an output, inline or from its file in `outputs/`.
    public func output(_ entry: [String: Any], _ stream: String) -> String {
        if let text = entry[stream] as? String { return text }
        guard let file = entry["\(stream)_file"] as? String,
              let text = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8) else { return "" }
        return text
    }

    /// A readable timeline: step, host, command, exit status, duration, output (folded unless
    /// `fullOutput`), approvals and connection events, each at its clock time in `timeZone` (UTC
    /// unless asked) and its offset from the start.
    public func timeline(step: String? = nil, fullOutput: Bool = false, timeZone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        let start = (entries.first?["time"] as? String).flatMap(Timestamp.date(from:))
        let clock = { (date: Date) in Timestamp.timeOfDay(date, offsetSeconds: timeZone.secondsFromGMT(for: date)) }
        let zone = ["UTC", "GMT"].contains(timeZone.identifier) ? "UTC" : timeZone.abbreviation() ?? timeZone.identifier
        var lines: [String] = start.map { ["Times in \(zone), from \(Timestamp.day($0, offsetSeconds: timeZone.secondsFromGMT(for: $0))); +seconds since the run started."
                                           + (isVirtualTime ? " A drill in virtual time: these are the times the recovery would take (wall_time in the journal: when each line was written)." : "")] } ?? []
        let unanswered = sentWithoutResult()
        for (position, entry) in entries.enumerated() {
            guard let type = entry["type"] as? String else { continue }
            if let step, let entryStep = entry["step"] as? String, entryStep != step { continue }
            if step != nil, entry["step"] == nil, type != "connection" { continue }
            let time = (entry["time"] as? String).flatMap(Timestamp.date(from:))
            let offset = time.flatMap { date in start.map { date.timeIntervalSince($0) } } ?? 0
            let at = (time.map(clock) ?? "??:??:??.???") + String(format: " +%8.3fs  ", offset)
            let where_ = [(entry["step"] as? String).map { name in name + ((entry["item"] as? String).map { $0.isEmpty ? "" : " [\($0)]" } ?? "") }, entry["host"] as? String]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " on ")
            switch type {
            case "run-started":
                lines.append(at + "run \(entry["run"] ?? "") of \(entry["runbook"] ?? "") started by \(entry["operator"] ?? "") on \(entry["machine"] ?? "")" +
                             ((entry["dry_run"] as? Bool) == true ? " (dry run)" : ""))
            case "command-finished":
                lines.append(at + "\(where_): $ \(entry["command"] ?? "")  -> exit \(entry["exit_status"] ?? "?") in \(entry["duration_ms"] ?? 0)ms" +
                             ((entry["exit_signal"] as? String).map { " (signal \($0))" } ?? ""))
                for stream in ["stdout", "stderr"] {
                    let text = output(entry, stream).trimmingCharacters(in: .newlines)
                    guard !text.isEmpty else { continue }
                    let shown = fullOutput ? text : folded(text)
                    lines += shown.split(separator: "\n", omittingEmptySubsequences: false).map { "              " + (stream == "stderr" ? "! " : "| ") + $0 }
                }
            case "command-sent" where unanswered.contains(position):
                lines.append(at + "\(where_): $ \(entry["command"] ?? "")  -> sent, no result recorded: in flight when the run stopped")
            case "command-failed":
                lines.append(at + "\(where_): $ \(entry["command"] ?? "")  -> \(entry["error"] ?? "failed")")
            case "approval-given", "approval-denied":
                lines.append(at + "\(where_): approval \(type == "approval-given" ? "given" : "DENIED") by \(entry["by"] ?? "?")" +
                             ((entry["reason"] as? String).map { $0.isEmpty ? "" : " (\($0))" } ?? ""))
            case "approval-asked":
                lines.append(at + "\(where_): approval asked: \(entry["prompt"] ?? "")")
                lines += ((entry["shown"] as? [String]) ?? []).map { "              shown: " + $0 }
                let unlocks = (entry["unlocks"] as? [String]) ?? []
                if !unlocks.isEmpty { lines += ["              unlocks:"] + unlocks.map { "                " + $0 } }
            case "run-resumed":
                let inFlight = (entry["in_flight"] as? [String]) ?? []
                lines.append(at + "run resumed by \(entry["operator"] ?? "") on \(entry["machine"] ?? ""): \(entry["restored_items"] ?? 0) finished item(s) kept"
                             + (inFlight.isEmpty ? "" : "; in flight when it stopped: \(inFlight.joined(separator: ", "))"))
            case "in-flight-settled":
                lines.append(at + "\(where_): was in flight when the run stopped: \(entry["detail"] ?? "")")
            case "already-done":
                lines.append(at + "\(where_): already done (its verify check passed), nothing changed")
            case "probed":
                lines.append(at + "\(where_): \(entry["target"] ?? ""): \(entry["state"] ?? "") (\(entry["detail"] ?? ""))")
            case "wait-checked":
                let holds = (entry["holds"] as? Bool) == true
                lines.append(at + "\(where_): check \(entry["check"] ?? "?") " + (holds ? "holds" : "not yet: \(entry["detail"] ?? "")")
                             + (holds ? "" : " (deadline \((entry["deadline"] as? String).flatMap(Timestamp.date(from:)).map(clock) ?? "?"))"))
            case "approval-interrupted":
                lines.append(at + "\(where_): approval question interrupted (Ctrl-C or end of input): nothing decided")
            case "approval-unanswered":
                lines.append(at + "\(where_): approval unanswered (no terminal): the run stops here until it is decided")
            case "run-paused":
                lines.append(at + "run paused (\(entry["reason"] ?? "")): \(entry["resume_with"] ?? "drctl resume") goes on")
            case "drill-verdict":
                lines.append(at + "drill verdict: \(entry["summary"] ?? entry["verdict"] ?? "")")
                lines += ((entry["checks"] as? [[String: Any]]) ?? []).map {
                    "              \(($0["passed"] as? Bool) == true ? "✓" : "✗") \($0["expectation"] ?? ""): \($0["detail"] ?? "")"
                }
                let faults = (entry["faults"] as? [String]) ?? []
                if !faults.isEmpty { lines.append("              faults in force: " + faults.joined(separator: "; ")) }
            case "run-abandoned":
                lines.append(at + "run abandoned by \(entry["by"] ?? ""): \(entry["reason"] ?? "")")
            case "connection":
                lines.append(at + "~ \(entry["host"] ?? ""): \(entry["detail"] ?? "")")
            case "planned":
                lines.append(at + "\(where_): would run\((entry["executed"] as? Bool) == true ? " (read-only, ran)" : ""):")
                lines += ((entry["lines"] as? [String]) ?? []).map { "              " + $0 }
            case "step-ended" where entry["status"] as? String == "planned":
                continue
            case "step-ended":
                lines.append(at + "\(where_): \(entry["status"] ?? "")" + ((entry["reason"] as? String).map { ": \($0)" } ?? ""))
            case "retrying":
                lines.append(at + "\(where_): retrying (attempt \(entry["attempt"] ?? "?")): \(entry["reason"] ?? "")")
            case "run-ended":
                lines.append(at + "run ended: \(entry["outcome"] ?? "") (exit \(entry["exit_code"] ?? "?"))")
            default:
                continue
            }
        }
        if tornLastLine { lines.append("(the last journal line was cut off: the run was killed while writing it)") }
        return lines.joined(separator: "\n")
    }

    /// Positions of `command-sent` lines no result was recorded for: what was in flight when the
    /// process died (a resume settles those through verify checks).
    private func sentWithoutResult() -> Set<Int> {
        var open: [String: [Int]] = [:]
        for (position, entry) in entries.enumerated() {
            guard let type = entry["type"] as? String, ["command-sent", "command-finished", "command-failed"].contains(type) else { continue }
            let key = ["step", "index", "host", "command"].map { "\(entry[$0] ?? "")" }.joined(separator: "\u{0}")
            if type == "command-sent" { open[key, default: []].append(position) } else if !(open[key]?.isEmpty ?? true) { open[key]!.removeFirst() }
        }
        return Set(open.values.joined())
    }

    private func folded(_ text: String, keep: Int = 4) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > keep * 2 + 1 else { return text }
        return (lines.prefix(keep) + ["… \(lines.count - keep * 2) more lines (--step to see them) …"] + lines.suffix(keep)).joined(separator: "\n")
    }
}
