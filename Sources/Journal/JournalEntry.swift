import DrctlCore
import Engine
import Foundation

/// The journal entry of an event: its type and fields (the writer numbers, times and chains it).
enum JournalEntry {
    static func fields(for event: RunEvent, run: String) -> [String: Any] {
        switch event {
        case .runStarted(let runbook, let dryRun, let params):
            return ["type": "run-started", "run": run, "runbook": runbook, "dry_run": dryRun, "params": Value.map(params).jsonObject,
                    "operator": operatorName, "operator_person": OperatorIdentity.current.person, "machine": ProcessInfo.processInfo.hostName]
        case .runResumed(let runbook, let restored, let inFlight):
            return ["type": "run-resumed", "run": run, "runbook": runbook, "restored_items": restored, "in_flight": inFlight,
                    "operator": operatorName, "machine": ProcessInfo.processInfo.hostName]
        case .stepExpanded(let step, let items):
            return ["type": "step-expanded", "step": step, "items": items]
        case .itemStarted(let step, let item):
            return ["type": "step-dispatched", "step": step, "item": item.label, "index": item.index]
        case .commandSent(let step, let item, let host, let command, let mutates):
            return ["type": "command-sent", "step": step, "item": item.label, "index": item.index, "host": host, "command": command, "mutates": mutates]
        case .commandFinished(let step, let item, let host, let command, let result):
            var fields: [String: Any] = ["type": "command-finished", "step": step, "item": item.label, "index": item.index, "host": host,
                                         "command": command, "exit_status": Int(result.exitStatus), "duration_ms": Int(result.duration.milliseconds)]
            if let signal = result.exitSignal { fields["exit_signal"] = signal }
            return fields
        case .commandFailed(let step, let item, let host, let command, let error):
            return ["type": "command-failed", "step": step, "item": item.label, "index": item.index, "host": host, "command": command, "error": error]
        case .retrying(let step, let item, let attempt, let delay, let reason):
            return ["type": "retrying", "step": step, "item": item.label, "index": item.index, "attempt": attempt,
                    "delay_ms": Int(delay.milliseconds), "reason": reason]
        case .alreadyDone(let step, let item, let host):
            return ["type": "already-done", "step": step, "item": item.label, "index": item.index, "host": host]
        case .inFlightSettled(let step, let item, let host, let detail):
            return ["type": "in-flight-settled", "step": step, "item": item.label, "index": item.index, "host": host, "detail": detail]
        case .probed(let step, let item, let target, let state, let detail):
            return ["type": "probed", "step": step, "item": item.label, "index": item.index, "target": target, "state": state, "detail": detail]
        case .waitChecked(let step, let item, let host, let check, let holds, let detail, let deadline):
            return ["type": "wait-checked", "step": step, "item": item.label, "index": item.index, "host": host ?? "", "check": check,
                    "holds": holds, "detail": detail, "deadline": timestamp(deadline)]
        case .approvalRequested(let step, let prompt, let shown, let unlocks):
            return ["type": "approval-asked", "step": step, "prompt": prompt, "shown": shown, "unlocks": unlocks]
        case .approvalDecided(let step, let decision):
            switch decision {
            case .approved(let by, let reason): return ["type": "approval-given", "step": step, "by": by, "reason": reason]
            case .denied(let by, let reason): return ["type": "approval-denied", "step": step, "by": by, "reason": reason]
            case .unavailable: return ["type": "approval-unanswered", "step": step]
            case .interrupted: return ["type": "approval-interrupted", "step": step]
            }
        case .planned(let entry):
            return ["type": "planned", "step": entry.step, "item": entry.item.label, "index": entry.item.index, "host": entry.host ?? "",
                    "lines": entry.lines, "behind_approvals": entry.behindApprovals, "executed": entry.executed]
        case .connection(let host, let detail):
            return ["type": "connection", "host": host, "detail": detail]
        case .itemFinished(let step, let item, let outcome):
            var fields: [String: Any] = ["type": outcome.isSuccess ? "step-finished" : "step-ended", "step": step, "item": item.label,
                                         "index": item.index, "status": outcome.status.rawValue, "hosts": outcome.hosts,
                                         "attempts": outcome.attempts, "duration_ms": Int(outcome.duration.milliseconds)]
            if let started = outcome.started { fields["started"] = timestamp(started) }
            if let reason = outcome.reason { fields["reason"] = reason }
            if let evidence = outcome.evidence { fields["evidence"] = evidence }
            return fields
        case .runPaused(let reason):
            return ["type": "run-paused", "reason": reason, "resume_with": "drctl resume \(run)"]
        case .runEnded(let summary):
            var fields: [String: Any] = ["type": "run-ended", "outcome": summary.outcome.rawValue, "exit_code": Int(summary.exitCode),
                                         "duration_ms": Int(summary.duration.milliseconds)]
            if let met = summary.rtoMet { fields["rto_met"] = met }
            if let goal = summary.goal {
                // The goal as read from the hosts: what holds, what does not, what was handed off.
                fields["goal"] = ["description": goal.description, "problem": goal.problem ?? "", "summary": goal.sentence,
                                  "items": goal.items.map { ["label": $0.label, "holds": $0.holds, "handed_off": $0.handedOff, "shows": $0.shows] as [String: Any] }]
            }
            return fields
        }
    }

    static func timestamp(_ date: Date) -> String {
        Timestamp.string(from: date)
    }

    /// Whoever runs drctl: the OS account (and who ran sudo), never `$USER`.
    static var operatorName: String { OperatorIdentity.current.description }
}
