import DrctlCore
import Foundation

/// What a reviewer or auditor needs of one recorded run, read from its journal alone: summary,
/// parameters, approvals, a per-host timeline, time to recovery per VM against the RTO, the
/// failures with their output, the hash-chain verdict and, for drills, the RTO trend.
public struct RunReport {
    public struct Attempt {
        public var started: Date
        public var operatorName: String
        public var machine: String
        public var resumed: Bool
        /// How the attempt ended; nil when it died without a run-ended entry.
        public var outcome: String?
    }

    public struct Approval {
        public var step: String
        public var prompt: String
        public var decision: String
        public var by: String
        public var reason: String
        public var at: Date
        /// What the approver was shown (`label: value`) and the commands the approval unlocked.
        public var shown: [String] = []
        public var unlocks: [String] = []
    }

    /// One item of a step on one lane (a host, or drctl itself for approvals and probes).
    public struct Span {
        public var lane: String
        public var step: String
        public var item: String
        public var start: TimeInterval
        public var end: TimeInterval
        public var status: String
    }

    public struct Recovery {
        public var vm: String
        public var host: String
        /// Seconds from the start of the run to the VM's power-on.
        public var after: TimeInterval
    }

    public struct Failure {
        public var step: String
        public var item: String
        public var hosts: [String]
        public var status: String
        public var reason: String
        public var output: String
    }

    /// One drill of the same runbook, for the trend.
    public struct TrendPoint {
        public var run: String
        public var started: Date
        public var rto: TimeInterval
        public var outcome: String
        /// The drill's verdict (`passed`, `failed`), nil for drills recorded before verdicts were.
        public var verdict: String?
    }

    public var run: String
    public var runbook: String
    public var runbookFile: String
    public var runbookSHA256: String
    public var scenario: String?
    public var dryRun: Bool
    public var params: [(String, String)]
    public var hosts: [String]
    public var attempts: [Attempt]
    public var outcome: String
    public var started: Date
    public var duration: TimeInterval
    public var approvals: [Approval]
    public var spans: [Span]
    /// Stretches when the run was not running (killed, waiting to be resumed).
    public var gaps: [(start: TimeInterval, end: TimeInterval)]
    public var recoveries: [Recovery]
    public var rtoTarget: TimeInterval?
    public var failures: [Failure]
    public var chain: JournalChain.Verdict
    public var trend: [TrendPoint]
    /// Every command that changed a host, in the order sent.
    public var hostChanges: [HostChange]
    /// A drill's own verdict: its scenario's checks and the faults it injected.
    public var drillVerdict: DrillVerdict?
    /// A drill in virtual time: every time in the report is the drill's simulated time.
    public var virtualTime: Bool

    /// The RTO achieved: until the last VM was powered on, or the whole run when none was.
    public var rtoAchieved: TimeInterval { recoveries.map(\.after).max() ?? duration }
    /// Met only when the run's goal held (outcome succeeded) within the target.
    public var rtoMet: Bool? { rtoTarget.map { outcome == "succeeded" && rtoAchieved <= $0 } }
    /// The goal as read from the hosts at the end: "4 of 6 hold; not recovered: ...".
    public var goal: String?

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public init(run: String, runsDirectory: String) throws {
        guard let (journal, chain) = RecordedJournal.loadChecked(run: run, in: runsDirectory) else {
            throw Problem(description: "no run \(run) in \(runsDirectory); `drctl runs --runs-dir \(runsDirectory)` lists them")
        }
        try self.init(journal: journal, chain: chain)
        if let scenario { trend = Self.trend(of: runbook, against: scenario, in: runsDirectory) }
    }

    init(journal: RecordedJournal, chain: JournalChain.Verdict) throws {
        let entries = journal.entries
        guard let start = entries.first(where: { $0["type"] as? String == "run-started" }), let startTime = Self.date(start) else {
            throw Problem(description: "\(journal.directory.path): the journal has no run-started entry; nothing to report")
        }
        run = start["run"] as? String ?? journal.directory.lastPathComponent
        runbook = start["runbook"] as? String ?? ""
        runbookFile = start["runbook_file"] as? String ?? ""
        runbookSHA256 = start["runbook_sha256"] as? String ?? ""
        scenario = (start["drill"] as? [String: Any])?["scenario_file"] as? String
        dryRun = start["dry_run"] as? Bool ?? false
        params = ((start["params"] as? [String: Any]) ?? [:]).map { ($0.key, Value(jsonObject: $0.value).text) }.sorted { $0.0 < $1.0 }
        hosts = start["hosts"] as? [String] ?? []
        rtoTarget = (start["rto_ms"] as? Int).map { Double($0) / 1000 }
        self.chain = chain
        started = startTime
        trend = []
        hostChanges = HostChange.all(in: entries)
        virtualTime = start["clock"] as? String == "virtual"
        drillVerdict = entries.last { $0["type"] as? String == "drill-verdict" }.flatMap(DrillVerdict.init(entry:))
        let powerOnSteps = Set(((start["steps"] as? [[String: Any]]) ?? []).filter { $0["action"] as? String == "vm.power.on" }.compactMap { $0["id"] as? String })

        var attempts: [Attempt] = []
        var approvals: [Approval] = []
        var prompts: [String: String] = [:]
        var evidence: [String: (shown: [String], unlocks: [String])] = [:]
        var spans: [Span] = []
        var gaps: [(TimeInterval, TimeInterval)] = []
        var recoveries: [String: Recovery] = [:]
        var failures: [Failure] = []
        var dispatched: [String: TimeInterval] = [:]
        var lanes: [String: String] = [:]
        var labels: [String: String] = [:]
        var commandOutput: [String: String] = [:]
        var outcome = "unfinished (killed; drctl resume \(run) goes on)"
        var goalSummary: String?
        var last: TimeInterval = 0
        for entry in entries {
            let type = entry["type"] as? String ?? ""
            let at = Self.date(entry).map { $0.timeIntervalSince(startTime) } ?? last
            let step = entry["step"] as? String ?? ""
            let item = entry["item"] as? String ?? ""
            let key = "\(step)\u{1}\(entry["index"] as? Int ?? 0)"
            switch type {
            case "run-started", "run-resumed":
                if type == "run-resumed" {
                    gaps.append((last, at))
                    // What was running when the attempt died ends there.
                    for (open, begun) in dispatched {
                        let parts = open.split(separator: "\u{1}", omittingEmptySubsequences: false)
                        spans.append(Span(lane: lanes[open] ?? "drctl", step: String(parts[0]), item: labels[open] ?? "", start: begun, end: last,
                                          status: "interrupted"))
                    }
                    dispatched = [:]
                }
                attempts.append(Attempt(started: Self.date(entry) ?? startTime, operatorName: entry["operator"] as? String ?? "",
                                        machine: entry["machine"] as? String ?? "", resumed: type == "run-resumed", outcome: nil))
                outcome = "unfinished (killed; drctl resume \(run) goes on)"
            case "run-ended":
                outcome = entry["outcome"] as? String ?? "?"
                goalSummary = (entry["goal"] as? [String: Any])?["summary"] as? String
                if !attempts.isEmpty { attempts[attempts.count - 1].outcome = outcome }
            case "approval-asked":
                prompts[step] = entry["prompt"] as? String ?? ""
                evidence[step] = ((entry["shown"] as? [String]) ?? [], (entry["unlocks"] as? [String]) ?? [])
            case "approval-given", "approval-denied":
                approvals.append(Approval(step: step, prompt: prompts[step] ?? "", decision: type == "approval-given" ? "approved" : "denied",
                                          by: entry["by"] as? String ?? "", reason: entry["reason"] as? String ?? "", at: Self.date(entry) ?? startTime,
                                          shown: evidence[step]?.shown ?? [], unlocks: evidence[step]?.unlocks ?? []))
            case "step-dispatched":
                dispatched[key] = at
                labels[key] = item
            case "command-sent":
                lanes[key] = entry["host"] as? String
            case "command-finished" where (entry["exit_status"] as? Int ?? 0) != 0:
                commandOutput[key, default: ""] += "$ \(entry["command"] as? String ?? "")  (exit \(entry["exit_status"] ?? "?"))\n"
                    + journal.output(entry, "stdout") + journal.output(entry, "stderr")
            case "command-failed":
                commandOutput[key, default: ""] += "$ \(entry["command"] as? String ?? "")\n\(entry["error"] as? String ?? "")\n"
            case "step-finished", "step-ended":
                let status = entry["status"] as? String ?? ""
                let entryHosts = entry["hosts"] as? [String] ?? []
                if let begun = dispatched.removeValue(forKey: key) {
                    for lane in entryHosts.isEmpty ? ["drctl"] : entryHosts {
                        spans.append(Span(lane: lane, step: step, item: item, start: begun, end: max(at, begun), status: status))
                    }
                }
                if powerOnSteps.contains(step), status == "succeeded" || status == "already-done", !item.isEmpty, recoveries[item] == nil {
                    recoveries[item] = Recovery(vm: item, host: entryHosts.first ?? "", after: at)
                }
                if ["failed", "failed-continued", "denied"].contains(status) {
                    failures.append(Failure(step: step, item: item, hosts: entryHosts, status: status, reason: entry["reason"] as? String ?? "",
                                            output: commandOutput[key] ?? entry["evidence"] as? String ?? ""))
                }
                commandOutput[key] = nil
            default:
                break
            }
            last = max(last, at)
        }
        self.attempts = attempts
        self.approvals = approvals
        self.spans = spans
        self.gaps = gaps
        self.recoveries = recoveries.values.sorted { $0.after < $1.after }
        self.failures = failures
        self.outcome = outcome
        goal = goalSummary
        duration = last
    }

    static func date(_ entry: [String: Any]) -> Date? {
        (entry["time"] as? String).flatMap(Timestamp.date(from:))
    }

    /// Every drill of this runbook against the same scenario under the runs directory, oldest
    /// first: a trend compares like with like. Drills that failed or stopped are in it, marked.
    static func trend(of runbook: String, against scenario: String, in runsDirectory: String) -> [TrendPoint] {
        RecordedRun.all(in: runsDirectory).filter { $0.runbook == runbook }.compactMap { recorded in
            guard let journal = RecordedJournal.load(run: recorded.id, in: runsDirectory),
                  let start = journal.entries.first(where: { $0["type"] as? String == "run-started" }),
                  (start["drill"] as? [String: Any])?["scenario_file"] as? String == scenario, start["dry_run"] as? Bool != true,
                  let report = try? RunReport(journal: journal, chain: JournalChain.Verdict(intact: 0, broken: nil, tornLastLine: false)) else { return nil }
            return TrendPoint(run: recorded.id, started: report.started, rto: report.rtoAchieved, outcome: report.outcome,
                              verdict: report.drillVerdict?.verdict)
        }.sorted { $0.started < $1.started }
    }
}
