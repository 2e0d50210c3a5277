import DrctlCore
import Foundation
import RunbookFormat

/// One item's outcome from what each of its hosts answered.
extension StepRunner {
    /// One item's outcome from its hosts' results. With `tolerant` (a read on several hosts), the
    /// hosts that failed do not fail the item when others answered: the outputs come from the
    /// hosts that answered, `unanswered` names the hosts that gave no answer at all (no session, a
    /// timeout) and why, and the reason says so. A host that answered with an error is not one.
    func combine(_ results: [HostResult], hosts: [String], tolerant: Bool) -> ItemOutcome {
        var outcome = ItemOutcome(status: .succeeded, hosts: hosts, started: nil, duration: .zero, attempts: 0, reason: nil, evidence: nil, outputs: [:])
        var perHostOutputs: [[String: Value]] = []
        var failures: [String] = []
        var unanswered: [Value] = []
        var failedAnswers: [Value] = []
        var silentFailures: [String] = []
        var answeredFailures: [String] = []
        var answered: [Value] = []
        var evidence: [String] = []
        var allDone = true
        var planned = false
        var skipped: [String] = []
        var skipRule: String?
        var continued = false
        var undecided: [String] = []
        var interrupted: [String] = []
        for (index, result) in results.enumerated() {
            switch result {
            case .done(let outputs, let alreadyDone, let attempts):
                perHostOutputs.append(outputs)
                answered.append(.string(hosts[index]))
                allDone = allDone && alreadyDone
                outcome.attempts = max(outcome.attempts, attempts)
            case .failed(let reason, let shown, let attempts, let isContinued, _, let noAnswer):
                // Transport errors already start with the host's name.
                let named = hosts.count > 1 && !reason.hasPrefix("\(hosts[index]): ") ? "\(hosts[index]): \(reason)" : reason
                failures.append(named)
                if noAnswer {
                    unanswered.append(["host": .string(hosts[index]), "reason": .string(reason)])
                    silentFailures.append(named)
                } else {
                    failedAnswers.append(["host": .string(hosts[index]), "reason": .string(reason)])
                    answeredFailures.append(named)
                }
                if let shown { evidence.append(shown) }
                outcome.attempts = max(outcome.attempts, attempts)
                continued = isContinued
            case .planned(let outputs):
                planned = true
                perHostOutputs.append(outputs)
            case .skipped(let reason, let rule):
                skipped.append(reason)
                skipRule = skipRule ?? rule
            case .undecided(let reason):
                undecided.append(reason)
            case .interrupted(let reason):
                interrupted.append("\(hosts[index]): \(reason)")
            }
        }
        outcome.outputs = OutputAggregation.combine(perHostOutputs)
        if !planned {
            outcome.outputs["answered"] = .list(answered)
            outcome.outputs["unanswered"] = .list(unanswered)
            outcome.outputs["answered_with_error"] = .list(failedAnswers)
        }
        if !interrupted.isEmpty {
            outcome.status = .notStarted
            outcome.reason = interrupted.joined(separator: "; ")
        } else if !failures.isEmpty, tolerant, !answered.isEmpty, undecided.isEmpty {
            outcome.reason = "\(answered.count) of \(hosts.count) hosts answered"
                + (silentFailures.isEmpty ? "" : "; no answer from " + silentFailures.joined(separator: "; "))
                + (answeredFailures.isEmpty ? "" : "; failed on " + answeredFailures.joined(separator: "; "))
            outcome.evidence = evidence.isEmpty ? nil : evidence.joined(separator: "\n")
        } else if !failures.isEmpty {
            outcome.status = continued ? .failedContinued : .failed
            outcome.reason = failures.joined(separator: "; ")
            outcome.evidence = evidence.isEmpty ? nil : evidence.joined(separator: "\n")
        } else if !undecided.isEmpty {
            outcome.status = .awaitingApproval
            outcome.reason = undecided.joined(separator: "; ")
        } else if planned {
            outcome.status = .planned
        } else if skipped.count == results.count {
            outcome.status = .skipped
            outcome.reason = skipped.first
            outcome.evidence = skipRule.map { "when: \($0) is false" }
        } else if allDone && !perHostOutputs.isEmpty {
            outcome.status = .alreadyDone
        }
        return outcome
    }
}
