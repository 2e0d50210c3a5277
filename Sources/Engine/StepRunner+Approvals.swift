import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// Approvals: the gate, and what the approver sees.
extension StepRunner {
    func runApproval(_ work: ItemWork, _ approval: Approval) async -> ItemOutcome {
        let scope = DictionaryScope(work.roots)
        let prompt = (try? approval.prompt.template.value(in: scope).text) ?? approval.prompt.template.source
        let missing = MissingFields()
        var evidence = MissingFields.$current.withValue(missing) {
            approval.show.map { shown in (label: shown.label, value: (try? shown.value.template.value(in: scope).text) ?? "(unavailable)") }
        }
        if !missing.fields.isEmpty { evidence.append((label: "not known (shown as ?)", value: missing.fields.joined(separator: ", "))) }
        if let silent = silentHosts(work.roots) { evidence.append((label: "hosts that did not answer", value: silent)) }
        if let failing = hostsAnsweringWithErrors(work.roots) { evidence.append((label: "hosts that answered, but not as needed", value: failing)) }
        if options.dryRun {
            return await plan(work, host: nil, scope: scope, note: nil, lines: ["APPROVAL: \(prompt)"] + evidence.map { "  \($0.label): \($0.value)" })
        }
        let unlocks = unlockedCommands(behind: work.step.id, roots: work.roots)
        await events.emit(.approvalRequested(step: work.step.id, prompt: prompt, shown: evidence.map { "\($0.label): \($0.value)" }, unlocks: unlocks))
        let request = ApprovalRequest(stepID: work.step.id, title: work.step.title, prompt: prompt, evidence: evidence, unlocks: unlocks,
                                      approvers: approval.approvers, distinctFromOperator: approval.distinctFromOperator,
                                      isManualStep: work.step.handOff != nil)
        let decision = await decide(request, within: approval.timeout, then: approval.onTimeout)
        await events.emit(.approvalDecided(step: work.step.id, decision: decision))
        await records.addApproval(RunSummary.ApprovalRecord(step: work.step.id, prompt: prompt, decision: decision, at: options.clock.date()))
        switch decision {
        case .approved(let by, let reason):
            var outputs: [String: Value] = ["approved_by": .string(by), "reason": .string(reason)]
            // A manual step takes these over: the run's outcome says so instead of "failed".
            if let handOff = work.step.handOff { outputs["handed_off"] = (try? handOff.template.value(in: scope)) ?? .list([]) }
            return ItemOutcome(status: .succeeded, hosts: [], started: nil, duration: .zero, attempts: 1, reason: nil, evidence: nil, outputs: outputs)
        case .denied(let by, let reason):
            return ItemOutcome(status: .denied, hosts: [], started: nil, duration: .zero, attempts: 1,
                               reason: "denied by \(by)" + (reason.isEmpty ? "" : ": \(reason)"), evidence: nil,
                               outputs: ["approved_by": "", "reason": .string(reason)])
        case .unavailable:
            return ItemOutcome(status: .awaitingApproval, hosts: [], started: nil, duration: .zero, attempts: 0,
                               reason: "waiting for approval: \(prompt) (answer it on a terminal, or pass --approve \(work.step.id))", evidence: nil, outputs: [:])
        case .interrupted:
            // Nothing new starts; on resume the same question is asked again.
            stop.request()
            return ItemOutcome(status: .awaitingApproval, hosts: [], started: nil, duration: .zero, attempts: 0,
                               reason: "interrupted at the approval prompt: \(prompt)", evidence: nil, outputs: [:])
        }
    }

    /// The gate's decision, or, past the approval's `timeout`, what `on_timeout` says: the question
    /// on screen is closed (the gate's task is cancelled) and drctl records that nobody decided.
    func decide(_ request: ApprovalRequest, within timeout: Duration?, then onTimeout: Approval.OnTimeout) async -> ApprovalDecision {
        guard let timeout else { return await gate.decide(request) }
        let gate = self.gate
        // In a drill's virtual time the clock stands still while a person decides: the timer fires
        // only when nobody is being asked (the gate holds its token while it waits for an answer).
        let clock = options.clock
        let asked: @Sendable () async -> ApprovalDecision? = { await gate.decide(request) }
        let timer: @Sendable () async -> ApprovalDecision? = {
            try? await clock.sleep(for: timeout)
            return nil
        }
        let decision = await clock.gather([asked, timer], stopsTheRest: { _ in true }).first ?? nil
        // Without a terminal the gate answers "unavailable" at once: the run pauses (exit 3) as for
        // any approval, and the timeout starts again on resume.
        if let decision { return decision }
        let reason = "no decision within \(DurationText.format(timeout)) (on_timeout: \(onTimeout.rawValue))"
        switch onTimeout {
        case .deny: return .denied(by: "drctl", reason: reason)
        case .continue: return .approved(by: "drctl", reason: reason)
        case .abort:
            stop.abort("\(request.stepID): \(reason)")
            return .denied(by: "drctl", reason: reason)
        }
    }

    /// Hosts that did not answer the reads this approval rests on: the approver must know what
    /// the evidence leaves out.
    func silentHosts(_ roots: [String: Value]) -> String? { hostsListed(in: "unanswered", roots) }

    /// Hosts that answered, but with an error or a state their step did not accept.
    func hostsAnsweringWithErrors(_ roots: [String: Value]) -> String? { hostsListed(in: "answered_with_error", roots) }

    private func hostsListed(in output: String, _ roots: [String: Value]) -> String? {
        guard let steps = roots["steps"]?.mapValue else { return nil }
        var reasons: [String: [String]] = [:]
        for id in steps.keys.sorted() {
            for entry in steps[id]?[output]?.listValue ?? [] {
                guard let host = entry["host"]?.text else { continue }
                var reason = entry["reason"]?.text ?? "no answer"
                if reason.hasPrefix("\(host): ") { reason.removeFirst(host.count + 2) }
                reasons[host, default: []].append("\(id): \(reason)")
            }
        }
        guard !reasons.isEmpty else { return nil }
        // One line per host: the steps it did not answer, and the first reason given.
        return reasons.keys.sorted().map { host in
            let entries = reasons[host]!
            let steps = entries.map { String($0.prefix { $0 != ":" }) }
            let reason = entries[0].drop { $0 != ":" }.dropFirst().trimmingBlanks()
            return "\(host) (\(steps.joined(separator: ", ")): \(reason))"
        }.joined(separator: "; ")
    }
}
