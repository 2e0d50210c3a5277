import DrctlCore
import Engine
import Foundation

/// The end-of-run summary and the dry-run plan, as plain text.
enum SummaryPrinter {
    static func plan(_ summary: RunSummary, offline: Bool) -> String {
        var lines = ["", "Plan for \(summary.runbook): dry run, nothing was changed" +
                     (offline ? " and nothing was contacted; {{ … }} marks what discovery fills in." : "; read-only steps ran to discover real names."), ""]
        for entry in summary.plan {
            var header = String(format: "%3d. ", entry.sequence) + entry.step
            if !entry.item.label.isEmpty { header += " [\(entry.item.label)]" }
            if let host = entry.host { header += " on \(host)" }
            if entry.executed { header += "  (read-only, ran)" } else if entry.mutates { header += "  (changes the host)" }
            if !entry.behindApprovals.isEmpty { header += "  behind approval \(entry.behindApprovals.joined(separator: ", "))" }
            lines.append(header)
            if let note = entry.note { lines.append("       (\(note))") }
            lines += entry.lines.map { "       " + $0 }
        }
        if summary.plan.isEmpty { lines.append("  (no step would run)") }
        let failed = summary.failures.filter { $0.outcome.status == .failed }
        if !failed.isEmpty {
            lines.append("")
            lines.append("Discovery failed, so the plan is incomplete:")
            lines += failed.map { "  ✗ \($0.step)\($0.item.label.isEmpty ? "" : " [\($0.item.label)]"): \($0.outcome.reason ?? "failed")" }
        }
        return lines.joined(separator: "\n")
    }

    static func summary(_ summary: RunSummary) -> String {
        var lines = ["", "Run \(summary.runbook): \(summary.outcome.rawValue) in \(DurationText.format(summary.duration))" +
                     (summary.rto.map { " (RTO target \(DurationText.format($0)))" } ?? "")]
        var counts: [ItemOutcome.Status: Int] = [:]
        for step in summary.steps { for (_, outcome) in step.items { counts[outcome.status, default: 0] += 1 } }
        let order: [ItemOutcome.Status] = [.planned, .succeeded, .alreadyDone, .failed, .failedContinued, .denied, .skipped, .awaitingApproval, .notStarted]
        lines.append("  " + order.compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }.joined(separator: ", "))
        for approval in summary.approvals {
            switch approval.decision {
            case .approved(let by, let reason): lines.append("  approval \(approval.step): approved by \(by)\(reason.isEmpty ? "" : " (\(reason))")")
            case .denied(let by, let reason): lines.append("  approval \(approval.step): denied by \(by)\(reason.isEmpty ? "" : " (\(reason))")")
            case .unavailable: lines.append("  approval \(approval.step): nobody could answer; the run stopped there")
            case .interrupted: lines.append("  approval \(approval.step): interrupted at the prompt, no decision recorded; asked again on resume")
            }
        }
        for failure in summary.failures {
            lines.append("  ✗ \(failure.step)\(failure.item.label.isEmpty ? "" : " [\(failure.item.label)]"): \(failure.outcome.reason ?? failure.outcome.status.rawValue)")
        }
        // Powered on is not proven usable: a guest whose Tools never started may be hung at boot.
        let unready = summary.steps.flatMap { step in step.items.filter { $0.outcome.outputs["guest_ready"] == .bool(false) }.map { $0.item.label } }
        if !unready.isEmpty {
            lines.append("  ! VMware Tools did not start in \(unready.joined(separator: ", ")): powered on, but check their consoles")
        }
        let waiting = summary.steps.flatMap { step in step.items.filter { $0.outcome.status == .notStarted }.map { (step.id, $0.item, $0.outcome) } }
        if !waiting.isEmpty {
            lines.append("  not started: " + waiting.prefix(12).map { "\($0.0)\($0.1.label.isEmpty ? "" : " [\($0.1.label)]")" }.joined(separator: ", ") +
                         (waiting.count > 12 ? " and \(waiting.count - 12) more" : "") + (waiting.first?.2.reason.map { " (\($0))" } ?? ""))
        }
        lines += goalLines(summary)
        switch summary.outcome {
        case .awaitingApproval: lines.append("Stopped at an approval (exit 3): resume it from a terminal to answer, or with --approve STEP (drills: --auto-approve).")
        case .interrupted: lines.append("Interrupted (exit 130; 143 for SIGTERM): running commands were allowed to finish; nothing new was started.")
        case .failed where summary.goal != nil: lines.append("FAILED (exit 1): the recovery goal does not hold. Keep working on the incident.")
        case .failed: lines.append("A step failed (exit 1). Independent steps ran to the end.")
        case .partial: lines.append("PARTIAL (exit 4): part of the goal does not hold, or a step did not succeed. Keep working on what the goal lists.")
        case .handedOff: lines.append("HANDED OFF (exit 5): what the run did not recover was left to the manual step; it is listed above.")
        case .planIncomplete: lines.append("The plan is incomplete (exit 1): discovery failed, see above.")
        case .recordLost: lines.append("STOPPED (exit 6): the run's record could not be written, so nothing more was changed. The hosts may be half-recovered.")
        default: break
        }
        return lines.joined(separator: "\n")
    }

    /// The goal, item by item, as read from the hosts at the end; and the RTO, met only when it holds.
    static func goalLines(_ summary: RunSummary) -> [String] {
        guard let goal = summary.goal else { return [] }
        var lines = ["", "Goal: \(goal.description.isEmpty ? "(no description)" : goal.description)"]
        if let problem = goal.problem {
            lines.append("  ✗ could not be checked: \(problem)")
        }
        for item in goal.items {
            let mark = item.holds ? "✓" : item.handedOff ? "→" : "✗"
            let note = item.holds ? "" : item.handedOff ? " (handed off to the manual step)" : " NOT RECOVERED"
            lines.append("  \(mark) \(item.label)\(note)\(item.shows.isEmpty ? "" : ": \(item.shows)")")
        }
        if goal.items.isEmpty, goal.problem == nil { lines.append("  (nothing to recover)") }
        lines.append("  " + goal.sentence)
        if let met = summary.rtoMet, let target = summary.rto {
            lines.append("  RTO \(DurationText.format(target)): " + (met ? "met (\(DurationText.format(summary.duration)))"
                : summary.outcome == .succeeded ? "MISSED (\(DurationText.format(summary.duration)))"
                : "not met: the run ended \(summary.outcome.rawValue): only a run that succeeded meets an RTO"))
        }
        return lines
    }
}
