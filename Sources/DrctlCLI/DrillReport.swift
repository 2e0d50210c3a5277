import DrctlCore
import Engine
import Foundation
import Journal
import RunbookFormat
import Simulator

/// What a drill shows the DR coordinator: per-VM recovery, RTO, approvals, failures, end state.
struct DrillReport {
    let runbook: Runbook
    var summary: RunSummary
    let scenario: Scenario
    let verdicts: [Scenario.Verdict]
    let faults: [String]
    /// Ran in virtual time: its times are what the recovery would take.
    var virtualTime = false

    struct VMRecovery {
        var name: String
        var recovered: Bool
        /// Deliberately left alone (its `when` said so), neither recovered nor failed.
        var leftAlone = false
        var host: String?
        var poweredOnAfter: Duration?
        var note: String
    }

    var passed: Bool { verdicts.allSatisfy(\.passed) }

    var prediction: RecoveryPrediction { RecoveryPrediction(runbook: runbook, summary: summary, inventory: scenario.inventory) }

    /// Whether the run reported what a correct runbook reports here: `succeeded` normally, or the
    /// outcome a fault variant declares (a drill that expects `partial` fails on `succeeded`).
    var outcomeAsExpected: Bool { scenario.invariants != nil || summary.outcome.rawValue == scenario.expectedOutcome }

    /// 0 only when the run's outcome is the expected one and every end-state check holds, with
    /// at least one check: a scenario that declares none proves only the run's own goal.
    var exitCode: Int32 {
        if [.awaitingApproval, .interrupted, .recordLost].contains(summary.outcome) { return summary.exitCode }
        // A person's decision stopped the runbook: the run's own exit code, never a pass, and a
        // runbook failure (1) only when something went wrong before it.
        if personsDenial != nil { return failedBeforeDecision.isEmpty ? summary.exitCode : 1 }
        return passed && outcomeAsExpected && !unchecked ? 0 : 1
    }

    /// The first approval a person denied (drctl's own aborts, by "drctl", are not decisions).
    var personsDenial: (step: String, by: String, reason: String, at: Date)? {
        for approval in summary.approvals {
            if case .denied(let by, let reason) = approval.decision, by != "drctl" { return (approval.step, by, reason, approval.at) }
        }
        return nil
    }

    /// Steps that failed (not as the runbook allows) before a person's denial: what started
    /// before the decision (an item with no start is counted, to be safe).
    var failedBeforeDecision: [String] {
        let decided = personsDenial?.at ?? .distantFuture
        return summary.failures.filter { $0.outcome.status == .failed && ($0.outcome.started ?? .distantPast) < decided }
            .map { $0.step + ($0.item.label.isEmpty ? "" : " [\($0.item.label)]") }
    }

    /// The scenario checks nothing of the end state (no `expect:`, no invariants).
    var unchecked: Bool { verdicts.isEmpty && scenario.invariants == nil }

    /// VMs the runbook powered on (items of `vm.power.on` steps) and VMs the scenario checks.
    var vms: [VMRecovery] {
        var recoveries: [String: VMRecovery] = [:]
        var order: [String] = []
        let powerOnSteps = Set(runbook.steps.filter { step in
            if case .action(let call) = step.kind { return call.name == "vm.power.on" }
            return false
        }.map(\.id))
        for step in summary.steps where powerOnSteps.contains(step.id) {
            for (item, outcome) in step.items {
                guard !item.label.isEmpty, outcome.status != .skipped || !recoveries.keys.contains(item.label) else { continue }
                let finished = outcome.started.map { $0.addingTimeInterval(outcome.duration.seconds).timeIntervalSince(summary.started) }
                if recoveries[item.label] == nil { order.append(item.label) }
                if outcome.skippedByItsCondition, let reason = outcome.reason {
                    recoveries[item.label] = VMRecovery(name: item.label, recovered: false, leftAlone: true, host: nil, poweredOnAfter: nil,
                                                        note: "not powered on (\(reason))")
                    continue
                }
                recoveries[item.label] = VMRecovery(name: item.label, recovered: outcome.isSuccess, host: outcome.hosts.first,
                                                    poweredOnAfter: outcome.isSuccess ? finished.map { .milliseconds(Int64($0 * 1000)) } : nil,
                                                    note: outcome.isSuccess ? (outcome.status == .alreadyDone ? "was already on" : "powered on") + Self.guestNote(outcome)
                                                        : (outcome.reason ?? outcome.status.rawValue))
            }
        }
        for verdict in verdicts where verdict.expectation.hasPrefix("vm ") {
            let name = verdict.expectation.dropFirst(3).components(separatedBy: " powered").first ?? ""
            if recoveries[name] == nil, !name.isEmpty {
                order.append(name)
                recoveries[name] = VMRecovery(name: name, recovered: verdict.passed, host: nil, poweredOnAfter: nil,
                                              note: verdict.passed ? "as expected (\(verdict.detail))" : "not recovered: \(verdict.detail)")
            }
        }
        // Earliest power-on first, then the VMs that did not come back.
        return order.map { recoveries[$0]! }.sorted { ($0.poweredOnAfter ?? .seconds(1_000_000)) < ($1.poweredOnAfter ?? .seconds(1_000_000)) }
    }

    /// What the wait for VMware Tools found, when the runbook waited.
    static func guestNote(_ outcome: ItemOutcome) -> String {
        guard case .string(let tools) = outcome.outputs["tools"] ?? .null, tools != "not waited for" else { return "" }
        return "; VMware Tools " + tools
    }

    var text: String {
        var lines = ["", "=== Drill report: \(summary.runbook) against \(scenario.name) ==="]
        let rto = summary.rto.map { target in
            "\(DurationText.format(summary.duration)) against a target of \(DurationText.format(target)): "
                + (summary.rtoMet == true ? "met" : summary.outcome == .succeeded ? "MISSED" : "not met (the run ended \(summary.outcome.rawValue): only a run that succeeded meets an RTO)")
        } ?? "\(DurationText.format(summary.duration)) (the runbook sets no rto)"
        lines.append("Run: \(summary.outcome.rawValue); recovery took \(rto)" + (virtualTime ? " (virtual time: what it would take on these hosts)" : ""))
        lines += SummaryPrinter.goalLines(summary).filter { !$0.hasPrefix("  RTO") }
        lines.append("")
        lines.append("VMs:")
        let recoveries = vms
        let width = min(32, recoveries.map(\.name.count).max() ?? 10)
        for vm in recoveries {
            let time = vm.poweredOnAfter.map { " after \(DurationText.format($0))" } ?? ""
            lines.append("  \(vm.leftAlone ? "-" : vm.recovered ? "✓" : "✗") \(vm.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(vm.host.map { "on \($0)" } ?? "")\(time)  \(vm.note)")
        }
        if recoveries.isEmpty { lines.append("  (no VM was powered on or checked)") }
        if virtualTime {
            lines.append("")
            lines.append("Predicted recovery (virtual time, with ESXi's durations; docs/simulator.md):")
            lines += prediction.lines
        }
        lines.append("")
        lines.append("Approvals:")
        for approval in summary.approvals {
            switch approval.decision {
            case .approved(let by, let reason): lines.append("  \(approval.step): approved by \(by)\(reason.isEmpty ? "" : " (\(reason))")")
            case .denied(let by, let reason): lines.append("  \(approval.step): denied by \(by)\(reason.isEmpty ? "" : " (\(reason))")")
            case .unavailable: lines.append("  \(approval.step): nobody could answer; the drill stopped there")
            case .interrupted: lines.append("  \(approval.step): interrupted at the prompt, no decision recorded; asked again on resume")
            }
        }
        if summary.approvals.isEmpty { lines.append("  (none asked)") }
        let failures = summary.failures.filter { $0.outcome.status != .failedContinued }
        let tolerated = summary.failures.filter { $0.outcome.status == .failedContinued }
        if !tolerated.isEmpty {
            lines.append("")
            lines.append("Checks that failed, as the runbook allows (on_failure: continue):")
            for failure in tolerated {
                lines.append("  ! \(failure.step)\(failure.item.label.isEmpty ? "" : " [\(failure.item.label)]"): \(failure.outcome.reason ?? "failed")")
            }
        }
        if !failures.isEmpty {
            lines.append("")
            lines.append("Failures:")
            for failure in failures {
                let hosts = failure.outcome.hosts.isEmpty ? "" : " on \(failure.outcome.hosts.joined(separator: ", "))"
                lines.append("  ✗ \(failure.step)\(failure.item.label.isEmpty ? "" : " [\(failure.item.label)]")\(hosts): \(failure.outcome.reason ?? failure.outcome.status.rawValue)")
                if let evidence = failure.outcome.evidence { lines.append(indent(fold(evidence, keep: 6), by: 6)) }
            }
        }
        if !faults.isEmpty {
            lines.append("")
            lines.append("Faults injected: " + faults.joined(separator: "; "))
        }
        lines.append("")
        lines.append("End state (the scenario's checks):")
        for verdict in verdicts { lines.append("  \(verdict.passed ? "✓" : "✗") \(verdict.expectation): \(verdict.detail)") }
        if verdicts.isEmpty { lines.append("  (the scenario declares none)") }
        lines.append("")
        lines.append(verdictLine)
        return lines.joined(separator: "\n")
    }

    var isFinished: Bool { ![.awaitingApproval, .interrupted, .recordLost].contains(summary.outcome) }

    /// The drill's verdict in one line: what the console ends with and the journal records.
    var verdictLine: String {
        let held = verdicts.filter(\.passed).count
        guard isFinished else { return "DRILL NOT FINISHED: run \(summary.outcome.rawValue); `drctl resume` goes on with it." }
        if let denial = personsDenial {
            let before = failedBeforeDecision
            return "DRILL STOPPED BY A DECISION: \(denial.by) denied \(denial.step)" + (denial.reason.isEmpty ? "" : " (\(denial.reason))")
                + ". The drill judges the runbook, not that decision: "
                + (before.isEmpty ? "every step before it went as a correct runbook's must (none failed)."
                    : "before it, \(before.joined(separator: ", ")) failed (see Failures).")
                + " Run \(summary.outcome.rawValue)."
        }
        if unchecked {
            return "DRILL NOT CHECKED: the scenario declares no end-state checks, so this drill proves only the run's own goal ("
                + (summary.goal?.sentence ?? "the runbook has none") + "; run \(summary.outcome.rawValue)). "
                + "Add expect: entries to the scenario (drctl sim from-run writes them from a real run's goal)."
        }
        return exitCode == 0 ? "DRILL PASSED: \(held) of \(verdicts.count) checks hold. Run \(summary.outcome.rawValue), as expected."
            : "DRILL FAILED: \(held) of \(verdicts.count) checks hold. Run \(summary.outcome.rawValue)"
                + (outcomeAsExpected ? "." : ", but a correct runbook ends \(scenario.expectedOutcome) here.")
    }

    /// What the journal keeps of this verdict (`drill-verdict`).
    var record: DrillVerdict {
        DrillVerdict(verdict: !isFinished ? "not-finished" : personsDenial != nil ? "stopped-by-decision" : unchecked ? "not-checked"
                        : exitCode == 0 ? "passed" : "failed", summary: verdictLine,
                     outcome: summary.outcome.rawValue, expectedOutcome: scenario.invariants != nil ? "any the site's invariants allow" : scenario.expectedOutcome,
                     checks: verdicts.map { DrillVerdict.Check(expectation: $0.expectation, passed: $0.passed, detail: $0.detail) }, faults: faults,
                     prediction: virtualTime ? prediction.lines : [])
    }
}
