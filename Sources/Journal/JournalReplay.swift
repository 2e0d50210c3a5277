import DrctlCore
import Engine
import Foundation

/// A run's state rebuilt by replaying its journal: the inputs it started from, the items that
/// ended (with the outputs later steps read), and the items left in flight.
public struct JournalReplay {
    public var runbook: String
    public var runbookFile: String
    public var runbookSHA256: String
    public var inventoryFile: String?
    public var inventorySHA256: String?
    public var params: [String: Value]
    public var dryRun: Bool
    public var drill: DrillInputs?
    /// The outcome of the last attempt's run-ended entry; nil when the attempt died before it.
    public var lastOutcome: String?
    /// Who gave the run up and why (`drctl runs abandon`), when someone did.
    public var abandoned: String?
    /// `run` or `drill`, as the chained run-started line says (nil in journals older than the field).
    public var kind: String?
    /// The person who started the run (`distinct_from_operator` holds against them on resume).
    public var startedBy: String
    public var attempts: Int
    public var state: ResumeState

    public struct DrillInputs {
        public var scenarioFile: String
        public var scenarioSHA256: String
        public var seed: UInt64
        public var viaSSH: Bool
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ journal: RecordedJournal) throws {
        guard let start = journal.entries.first(where: { $0["type"] as? String == "run-started" }) else {
            throw Problem(description: "\(journal.directory.path)/journal.jsonl has no run-started entry: the run died before it began, so nothing reached a host; start it again")
        }
        runbook = start["runbook"] as? String ?? ""
        runbookFile = start["runbook_file"] as? String ?? ""
        kind = start["kind"] as? String
        startedBy = start["operator_person"] as? String ?? start["operator"] as? String ?? ""
        runbookSHA256 = start["runbook_sha256"] as? String ?? ""
        inventoryFile = (start["inventory_file"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        inventorySHA256 = start["inventory_sha256"] as? String
        params = (Value(jsonObject: start["params"] ?? [:]).mapValue) ?? [:]
        dryRun = start["dry_run"] as? Bool ?? false
        if let drill = start["drill"] as? [String: Any] {
            self.drill = DrillInputs(scenarioFile: drill["scenario_file"] as? String ?? "", scenarioSHA256: drill["scenario_sha256"] as? String ?? "",
                                     seed: UInt64(drill["seed"] as? String ?? "") ?? 0, viaSSH: drill["via_ssh"] as? Bool ?? false)
        }
        attempts = 0
        state = ResumeState()
        replay(journal)
    }

    private mutating func replay(_ journal: RecordedJournal) {
        /// Items dispatched and not ended yet: their label, and whether a changing command went out.
        var open: [ResumeState.Key: (label: String, changeSent: Bool)] = [:]
        var prompts: [String: String] = [:]
        var readOnly = Set<String>()
        let decoded = Self.endings(in: journal)
        state.finished.reserveCapacity(decoded.count)
        var endings = decoded.makeIterator()
        for entry in journal.entries {
            let type = entry["type"] as? String ?? ""
            /// The item the entry is about: read only for the entries that name one.
            var key: ResumeState.Key? { (entry["step"] as? String).flatMap { step in (entry["index"] as? Int).map { ResumeState.Key(step: step, index: $0) } } }
            switch type {
            case "run-started", "run-resumed":
                if type == "run-started" {
                    state.runStarted = (entry["time"] as? String).flatMap(Timestamp.date(from:))
                    for step in entry["steps"] as? [[String: Any]] ?? [] where step["mutates"] as? Bool == false {
                        if let id = step["id"] as? String { readOnly.insert(id) }
                    }
                }
                attempts += 1
                lastOutcome = nil
                // What the earlier attempt left running never ended: it stays in flight.
            case "step-dispatched":
                if let key = key { open[key] = (entry["item"] as? String ?? "", open[key]?.changeSent ?? false) }
            case "command-sent" where entry["mutates"] as? Bool == true:
                if let key = key { open[key]?.changeSent = true }
            case "step-finished", "step-ended":
                guard let ending = endings.next(), let key = key else { continue }
                open[key] = nil
                let outcome = ending.outcome
                // A read whose outputs were masked in the journal runs again on resume, so the
                // value is read afresh rather than a mask sent to a host.
                let masked = readOnly.contains(key.step) && ending.masked
                if ResumeState.keeps(outcome), !masked {
                    state.finished[key] = ResumeState.Finished(label: entry["item"] as? String ?? "", outcome: outcome)
                } else {
                    state.finished[key] = nil
                }
            case "run-ended":
                lastOutcome = entry["outcome"] as? String
            case "run-abandoned":
                abandoned = "by \(entry["by"] as? String ?? "?"): \(entry["reason"] as? String ?? "")"
            case "approval-asked":
                prompts[entry["step"] as? String ?? ""] = entry["prompt"] as? String ?? ""
            case "approval-given":
                let step = entry["step"] as? String ?? ""
                state.approvals.append(RunSummary.ApprovalRecord(step: step, prompt: prompts[step] ?? "",
                                                                 decision: .approved(by: entry["by"] as? String ?? "", reason: entry["reason"] as? String ?? ""),
                                                                 at: (entry["time"] as? String).flatMap(Timestamp.date(from:)) ?? Date()))
            default:
                continue
            }
        }
        state.inFlight = [:]
        for (key, item) in open where item.changeSent { state.inFlight[key] = item.label }
    }

    /// Each ended item's outcome, in the journal's order, and whether its outputs hold a mask.
    /// Decoding one ending does not depend on the others (the order decides only which ending
    /// counts), so a long journal's are decoded on every core, as its lines were read.
    private static func endings(in journal: RecordedJournal) -> [(outcome: ItemOutcome, masked: Bool)] {
        let count = journal.entries.count
        let chunks = count < 4096 ? 1 : ProcessInfo.processInfo.activeProcessorCount * 4
        var parts = [[(outcome: ItemOutcome, masked: Bool)]](repeating: [], count: chunks)
        parts.withUnsafeMutableBufferPointer { buffer in
            // Each chunk writes its own slot and reads the journal only.
            nonisolated(unsafe) let slots = buffer.baseAddress!, journal = journal
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                slots[chunk] = (count * chunk / chunks..<count * (chunk + 1) / chunks).compactMap { index in
                    let entry = journal.entries[index]
                    guard let type = entry["type"] as? String, type == "step-finished" || type == "step-ended" else { return nil }
                    let outcome = outcome(entry, journal: journal)
                    return (outcome, Value.map(outcome.outputs).mentions(Redactor.mask))
                }
            }
        }
        return parts.flatMap { $0 }
    }

    private static func outcome(_ entry: [String: Any], journal: RecordedJournal) -> ItemOutcome {
        var outputs = entry["outputs"] ?? [:]
        if let file = entry["outputs_file"] as? String,
           let data = FileManager.default.contents(atPath: journal.directory.appendingPathComponent(file).path),
           let object = JournalJSON.value(from: data) {
            outputs = object
        }
        return ItemOutcome(status: ItemOutcome.Status(rawValue: entry["status"] as? String ?? "") ?? .failed,
                           hosts: entry["hosts"] as? [String] ?? [], started: (entry["started"] as? String).flatMap(Timestamp.date(from:)),
                           duration: .milliseconds(entry["duration_ms"] as? Int ?? 0), attempts: entry["attempts"] as? Int ?? 0,
                           reason: entry["reason"] as? String, evidence: entry["evidence"] as? String,
                           outputs: Value(jsonObject: outputs).mapValue ?? [:])
    }
}

private extension Value {
    /// Whether `text` is in any string or key of the value (as it would be in the value's JSON).
    func mentions(_ text: String) -> Bool {
        switch self {
        case .string(let string): return string.includes(text)
        case .unknown(let expression): return expression.includes(text)
        case .number, .bool, .null: return false
        case .list(let items): return items.contains { $0.mentions(text) }
        case .map(let fields): return fields.contains { $0.key.includes(text) || $0.value.mentions(text) }
        }
    }
}
