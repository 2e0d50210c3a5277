import Crypto
import DrctlCore
import Engine
import Foundation

/// What the run-started entry records about the inputs, so a reviewer can tell exactly what ran.
public struct RunHeader: Sendable {
    public var runbookFile: String
    public var runbookSource: String
    public var inventoryFile: String?

    public init(runbookFile: String, runbookSource: String, inventoryFile: String?) {
        self.runbookFile = runbookFile
        self.runbookSource = runbookSource
        self.inventoryFile = inventoryFile
    }
}

/// Writes every run event as one JSON line, flushed to disk (fsync) before the engine goes on,
/// so the journal always holds at least what has happened. Each line carries the SHA-256 of the
/// line before it (`prev`), so an edited or removed line breaks the chain. Output larger than
/// `inlineLimit` is kept in full in `outputs/` and the journal line points at it.
public actor JournalWriter: RunObserver {
    public nonisolated let directory: RunDirectory
    private let handle: FileHandle
    private let inlineLimit: Int
    private let header: RunHeader?
    private let redactor: Redactor
    private var sequence = 0
    private var previousHash = JournalChain.genesis
    private let timestamps: ISO8601DateFormatter

    public init(directory: RunDirectory, header: RunHeader? = nil, redactor: Redactor = Redactor(), inlineLimit: Int = 16 * 1024) throws {
        self.redactor = redactor
        FileManager.default.createFile(atPath: directory.journal.path, contents: nil)
        handle = try FileHandle(forWritingTo: directory.journal)
        self.directory = directory
        self.header = header
        self.inlineLimit = inlineLimit
        timestamps = ISO8601DateFormatter()
        timestamps.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    }

    public func record(_ event: RunEvent) async {
        write(redacted(entry(for: event)) as? [String: Any] ?? [:])
    }

    /// Every text in the entry, masked, before anything reaches the disk.
    private func redacted(_ value: Any) -> Any {
        switch value {
        case let text as String: return redactor.redact(text)
        case let list as [Any]: return list.map(redacted)
        case let map as [String: Any]: return map.mapValues(redacted)
        default: return value
        }
    }

    /// The journal entry of an event: its type and fields, numbered and timed.
    func entry(for event: RunEvent) -> [String: Any] {
        switch event {
        case .runStarted(let runbook, let dryRun, let params):
            var fields: [String: Any] = ["type": "run-started", "run": directory.id, "runbook": runbook, "dry_run": dryRun,
                                         "params": Value.map(params).jsonObject, "operator": Self.operatorName,
                                         "machine": ProcessInfo.processInfo.hostName]
            if let header {
                fields["runbook_file"] = header.runbookFile
                fields["runbook_sha256"] = JournalChain.sha256(Data(header.runbookSource.utf8))
                fields["inventory_file"] = header.inventoryFile ?? ""
            }
            return fields
        case .itemStarted(let step, let item):
            return ["type": "step-dispatched", "step": step, "item": item.label, "index": item.index]
        case .commandSent(let step, let item, let host, let command, let mutates):
            return ["type": "command-sent", "step": step, "item": item.label, "host": host, "command": command, "mutates": mutates]
        case .commandFinished(let step, let item, let host, let command, let result):
            var fields: [String: Any] = ["type": "command-finished", "step": step, "item": item.label, "host": host, "command": command,
                                         "exit_status": Int(result.exitStatus), "duration_ms": Int(result.duration.milliseconds)]
            if let signal = result.exitSignal { fields["exit_signal"] = signal }
            fields.merge(output("stdout", result.stdout, step: step, host: host)) { first, _ in first }
            fields.merge(output("stderr", result.stderr, step: step, host: host)) { first, _ in first }
            return fields
        case .commandFailed(let step, let item, let host, let command, let error):
            return ["type": "command-failed", "step": step, "item": item.label, "host": host, "command": command, "error": error]
        case .retrying(let step, let item, let attempt, let delay, let reason):
            return ["type": "retrying", "step": step, "item": item.label, "attempt": attempt, "delay_ms": Int(delay.milliseconds), "reason": reason]
        case .alreadyDone(let step, let item, let host):
            return ["type": "already-done", "step": step, "item": item.label, "host": host]
        case .approvalRequested(let step, let prompt):
            return ["type": "approval-asked", "step": step, "prompt": prompt]
        case .approvalDecided(let step, let decision):
            switch decision {
            case .approved(let by, let reason): return ["type": "approval-given", "step": step, "by": by, "reason": reason]
            case .denied(let by, let reason): return ["type": "approval-denied", "step": step, "by": by, "reason": reason]
            case .unavailable: return ["type": "approval-unanswered", "step": step]
            }
        case .planned(let entry):
            return ["type": "planned", "step": entry.step, "item": entry.item.label, "host": entry.host ?? "", "lines": entry.lines,
                    "behind_approvals": entry.behindApprovals, "executed": entry.executed]
        case .connection(let host, let detail):
            return ["type": "connection", "host": host, "detail": detail]
        case .itemFinished(let step, let item, let outcome):
            var fields: [String: Any] = ["type": outcome.isSuccess ? "step-finished" : "step-ended", "step": step, "item": item.label,
                                         "status": outcome.status.rawValue, "hosts": outcome.hosts, "attempts": outcome.attempts,
                                         "duration_ms": Int(outcome.duration.milliseconds)]
            if let reason = outcome.reason { fields["reason"] = reason }
            return fields
        case .runEnded(let summary):
            return ["type": "run-ended", "outcome": summary.outcome.rawValue, "exit_code": Int(summary.exitCode),
                    "duration_ms": Int(summary.duration.milliseconds)]
        }
    }

    /// Small output goes inline; large output goes to a file of its own, named in the entry.
    private func output(_ stream: String, _ text: String, step: String, host: String) -> [String: Any] {
        let text = redactor.redact(text)
        let bytes = text.utf8.count
        guard bytes > inlineLimit else { return [stream: text] }
        let name = "\(sequence + 1)-\(safe(step))-\(safe(host)).\(stream)"
        let file = directory.outputs.appendingPathComponent(name)
        FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8))
        if let written = try? FileHandle(forWritingTo: file) {
            try? written.synchronize()
            try? written.close()
        }
        return ["\(stream)_file": "outputs/\(name)", "\(stream)_bytes": bytes, "\(stream)_head": String(text.prefix(512))]
    }

    private func safe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }

    private func write(_ fields: [String: Any]) {
        sequence += 1
        var entry = fields
        entry["seq"] = sequence
        entry["time"] = timestamps.string(from: Date())
        entry["prev"] = previousHash
        guard var data = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        previousHash = JournalChain.sha256(data)
        data.append(0x0A)
        handle.write(data)
        // The event is on disk before the action it announces proceeds.
        try? handle.synchronize()
    }

    /// The login name of whoever runs drctl.
    static var operatorName: String {
        if let name = ProcessInfo.processInfo.environment["USER"], !name.isEmpty { return name }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    public func close() {
        try? handle.close()
    }
}

/// The hash chain of a journal: each line names the SHA-256 of the line before it.
public enum JournalChain {
    public static let genesis = String(repeating: "0", count: 64)

    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    public struct Verdict: Sendable, Equatable {
        /// Events whose chain holds.
        public var intact: Int
        /// The first line that breaks the chain (1-based) and why.
        public var broken: (line: Int, reason: String)?
        /// The last line was cut off mid-write (a crash): tolerated, reported.
        public var tornLastLine: Bool

        public static func == (a: Verdict, b: Verdict) -> Bool {
            a.intact == b.intact && a.broken?.line == b.broken?.line && a.broken?.reason == b.broken?.reason && a.tornLastLine == b.tornLastLine
        }
    }

    /// Checks every line's `prev` against the hash of the line before it.
    public static func verify(_ journal: Data) -> Verdict {
        var lines = journal.split(separator: 0x0A, omittingEmptySubsequences: false).map { Data($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        var verdict = Verdict(intact: 0, broken: nil, tornLastLine: false)
        var previous = genesis
        for (index, line) in lines.enumerated() {
            guard let entry = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                if index == lines.count - 1 && !journal.isEmpty && journal.last != 0x0A {
                    verdict.tornLastLine = true
                } else {
                    verdict.broken = (index + 1, "not a JSON object: the line was altered")
                }
                return verdict
            }
            guard entry["prev"] as? String == previous else {
                verdict.broken = (index + 1, "its prev does not match the line before it: this line or the one before was edited, added or removed")
                return verdict
            }
            guard entry["seq"] as? Int == index + 1 else {
                verdict.broken = (index + 1, "sequence number \(entry["seq"] ?? "none") where \(index + 1) was due: lines were removed or reordered")
                return verdict
            }
            previous = sha256(line)
            verdict.intact += 1
        }
        return verdict
    }
}
