import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// One item of a step, ready to run: everything it may read is already resolved.
struct ItemWork: Sendable {
    let step: Step
    let item: ItemRef
    let roots: [String: Value]
    let behindApprovals: [String]
    /// A dry-run did not make a change this item comes after: what it would read does not exist
    /// yet, so it is planned, not run.
    var followsPlannedChange = false
}

/// What one host instance of an item ended with.
enum HostResult: Sendable {
    case done(outputs: [String: Value], alreadyDone: Bool, attempts: Int)
    /// `uncertain`: the command may have taken effect anyway (it timed out, the session dropped).
    /// `noAnswer`: the host never answered (no session, a timeout), as opposed to answering
    /// with an error or with a state that did not meet the step's condition.
    case failed(reason: String, evidence: String?, attempts: Int, continued: Bool, uncertain: Bool = false, noAnswer: Bool = false)
    case planned(outputs: [String: Value])
    /// `rule`: the `when:` that left it out, kept as evidence.
    case skipped(reason: String, rule: String? = nil)
    /// In flight when the run died, no verify check, nobody to ask: the run stops here.
    case undecided(reason: String)
    /// A wait cut short by Ctrl-C: not decided either way, so a resume waits again.
    case interrupted(reason: String)
}

/// Runs step items: conditions, hosts, retries, timeouts, verify checks, approvals, probes,
/// waits, and the dry-run plan. The scheduler decides when; this decides how.
final class StepRunner: Sendable {
    let runbook: Runbook
    let inventory: Inventory
    let transport: any Transport
    let gate: any ApprovalGate
    let events: EventSink
    let limits: ConcurrencyLimits
    let options: RunOptions
    let stop: StopSignal
    let records: RunRecords
    let inFlight: Set<ResumeState.Key>
    /// Hosts that hung on a read: left out of later reads on several hosts.
    let silentHosts = SilentHosts()

    init(runbook: Runbook, inventory: Inventory, transport: any Transport, gate: any ApprovalGate, events: EventSink, limits: ConcurrencyLimits,
         options: RunOptions, stop: StopSignal, records: RunRecords, inFlight: Set<ResumeState.Key> = []) {
        self.runbook = runbook
        self.inFlight = inFlight
        self.inventory = inventory
        self.transport = transport
        self.gate = gate
        self.events = events
        self.limits = limits
        self.options = options
        self.stop = stop
        self.records = records
    }

    func run(_ work: ItemWork) async -> ItemOutcome {
        let started = options.clock.date()
        let begun = options.clock.elapsed
        var outcome: ItemOutcome
        if let skipped = skippedByCondition(work) {
            outcome = skipped
        } else {
            outcome = await runKind(work)
        }
        outcome.started = started
        outcome.duration = options.clock.elapsed - begun
        outcome.outputs["status"] = .string(outcome.status.rawValue)
        if !work.step.set.isEmpty, outcome.isSuccess || outcome.status == .planned { computeSet(work, into: &outcome) }
        if let ensure = work.step.ensure, outcome.isSuccess || outcome.status == .planned { check(ensure, work, &outcome) }
        return outcome
    }

    /// Evaluates `set:` with `result` bound to the item's outputs. In a dry-run the values are
    /// computed whenever what they read is known, so later fan-outs still expand to real names.
    private func computeSet(_ work: ItemWork, into outcome: inout ItemOutcome) {
        var roots = work.roots
        for (name, template) in work.step.set {
            roots["result"] = .map(outcome.outputs)
            do {
                let value = try template.template.value(in: DictionaryScope(roots))
                // Not known yet (dry-run): name it by where it will come from.
                outcome.outputs[name] = value.isUnknown ? .unknown("steps.\(work.step.id).\(name)") : value
            } catch {
                outcome.status = .failed
                outcome.reason = "set.\(name): \(error)"
            }
        }
    }

    /// `when`, decided before anything else unless it reads `host` (then it is checked per host).
    private func skippedByCondition(_ work: ItemWork) -> ItemOutcome? {
        guard let when = work.step.when, !readsHost(when) else { return nil }
        let decided = try? ExpressionEvaluator.condition(when.expression, in: DictionaryScope(work.roots))
        guard decided == false else { return nil }
        return .skippedByCondition(skipReason(work.step, DictionaryScope(work.roots)), rule: when.source)
    }

    /// Why `when:` left it out, in the runbook's words (`skipped_because:`), never the rule's text.
    func skipReason(_ step: Step, _ scope: DictionaryScope) -> String {
        let said = step.skippedBecause.flatMap { try? $0.template.value(in: scope).text }
        return said.flatMap { $0.isEmpty ? nil : $0 } ?? "not needed here (its condition does not hold)"
    }

    func readsHost(_ condition: LocatedCondition) -> Bool {
        condition.expression.references.contains { $0.first == "host" }
    }

    private func runKind(_ work: ItemWork) async -> ItemOutcome {
        let outcome: ItemOutcome
        switch work.step.kind {
        case .approval(let approval): outcome = await runApproval(work, approval)
        case .probe(let probe): outcome = await runProbe(work, probe)
        case .wait(let wait):
            if case .probe(let probe) = wait.check { outcome = await waitForProbe(work, wait, probe) } else { outcome = await runOnHosts(work) }
        case .run, .action: outcome = await runOnHosts(work)
        }
        return outcome
    }

    // MARK: Hosts

    private func runOnHosts(_ work: ItemWork) async -> ItemOutcome {
        let scope = DictionaryScope(work.roots)
        let hosts: [Inventory.Host]
        do {
            switch try resolveHosts(work.step, scope) {
            case .known(let resolved): hosts = resolved
            case .unknown(let text):
                // Offline dry-run: where it runs is itself only known at run time.
                return await plan(work, host: "{{ \(text) }}", scope: scope, note: "hosts known at run time")
            }
        } catch {
            return failure("\(error)")
        }
        if work.step.fallback { return await runOnFirstThatSucceeds(work, hosts: hosts) }
        var collected = [HostResult?](repeating: nil, count: hosts.count)
        let tolerant = readsOnly(work.step)
        for (index, result) in await options.clock.gather(hosts.enumerated().map { index, host in {
            // A read on several hosts does not wait again for a host that hung on an earlier one.
            if tolerant, hosts.count > 1, let silent = self.silentHosts.reason(host.name), !self.options.dryRun {
                return (index, HostResult.failed(reason: "\(host.name): left out: \(silent); it is asked again only where a step needs it",
                                                 evidence: nil, attempts: 0, continued: false, noAnswer: true))
            }
            return (index, await self.runOnHost(work, host: host))
        } }) {
            collected[index] = result
        }
        let results = collected.map { $0! }
        return combine(results, hosts: hosts.map(\.name), tolerant: tolerant)
    }

    func runOnHost(_ work: ItemWork, host: Inventory.Host) async -> HostResult {
        var roots = work.roots
        roots["host"] = host.templateValue
        return await runOnHost(work, host: host, scope: DictionaryScope(roots))
    }

    /// A read on several hosts goes on with the hosts that answered (see `combine`); a change,
    /// a wait or a fallback does not.
    private func readsOnly(_ step: Step) -> Bool {
        switch step.kind {
        case .run, .action: return !step.mutates && !step.fallback
        default: return false
        }
    }

    enum ResolvedHosts {
        case known([Inventory.Host])
        case unknown(String)
    }

    func resolveHosts(_ step: Step, _ scope: TemplateScope) throws -> ResolvedHosts {
        guard let on = step.on else { throw EvaluationError("step '\(step.id)' has no on:") }
        let value = try on.template.value(in: scope)
        if case .unknown(let text) = value { return .unknown(text) }
        let names: [String] = (value.listValue ?? [value]).map { ($0["name"] ?? $0).text }.filter { !$0.isEmpty }
        if names.isEmpty {
            // A plan drawn before discovery ran cannot know the hosts yet.
            if options.dryRun { return .unknown(on.template.source.replacingOccurrences(of: "{{", with: "").replacingOccurrences(of: "}}", with: "").trimmingBlanks()) }
            throw EvaluationError("on: \(on.template.source) names no host")
        }
        return .known(try names.map { name in
            guard let host = inventory.host(named: name) else {
                // An offline plan may be drawn without an inventory: show the name as written.
                if options.offline { return Inventory.Host(name: name, address: name) }
                throw EvaluationError("host '\(name)' (from on: \(on.template.source)) is not in the inventory\(Suggestion.hint(for: name, among: inventory.hosts.map(\.name)))")
            }
            return host
        })
    }

    func runOnHost(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> HostResult {
        let step = work.step
        if let when = step.when, readsHost(when) || options.dryRun {
            do {
                switch try ExpressionEvaluator.condition(when.expression, in: scope) {
                case false?: return .skipped(reason: skipReason(step, scope), rule: when.source)
                case nil:
                    if options.dryRun { return plannedResult(await plan(work, host: host.name, scope: scope, note: "only if \(when.source)")) }
                    return .failed(reason: "when: \(when.source) cannot be decided", evidence: nil, attempts: 0, continued: false)
                case true?: break
                }
            } catch {
                return .failed(reason: "when: \(error)", evidence: nil, attempts: 0, continued: false)
            }
        }
        if options.dryRun && (options.offline || step.mutates || isWait(step) || work.followsPlannedChange) {
            return plannedResult(await plan(work, host: host.name, scope: scope, note: nil))
        }
        if options.dryRun {
            // Read-only steps really run in a dry-run so fan-outs expand to real names.
            await records.addPlan(PlanEntry(sequence: 0, step: step.id, title: step.title, kind: step.kind.name, item: work.item, host: host.name,
                                            lines: planLines(step, scope), behindApprovals: work.behindApprovals, note: nil,
                                            mutates: false, executed: true), events: events)
        }
        let wasInFlight = inFlight.contains(ResumeState.Key(step: step.id, index: work.item.index))
        if wasInFlight, case .wait(let wait) = step.kind {
            if let satisfied = await waitAlreadySatisfied(work, wait, host: host, scope: scope) { return satisfied }
        } else if step.mutates, wasInFlight {
            if let settled = await settleInFlight(work, host: host, scope: scope) { return settled }
        } else if step.mutates, let verified = await alreadyDone(work, host: host, scope: scope) {
            await events.emit(.alreadyDone(step: step.id, item: work.item, host: host.name))
            return .done(outputs: verified, alreadyDone: true, attempts: 0)
        }
        var attempt = 1
        while true {
            let result = await attemptOnce(work, host: host, scope: scope)
            switch result {
            case .success(let outputs):
                return .done(outputs: tagged(outputs, host: host.name), alreadyDone: false, attempts: attempt)
            case .failure(let failure) where failure.interrupted:
                return .interrupted(reason: failure.reason)
            case .failure(let failure):
                // With the record lost nothing is tried again: a retry would be a change off the record;
                // nor while the last attempt still runs: two attempts never overlap on a host.
                if attempt < step.retry.attempts && !stop.isRequested && !failure.stillRunning, await events.recordLost() == nil {
                    let delay = step.retry.delay(before: attempt + 1)
                    await events.emit(.retrying(step: step.id, item: work.item, nextAttempt: attempt + 1, delay: delay, reason: failure.reason))
                    await stop.pause(for: delay, on: options.clock)
                    // The failed attempt may have made its change after all (a timeout, a dropped
                    // session, a late answer): the verify check decides before anything is sent again.
                    if step.mutates, let verified = await alreadyDone(work, host: host, scope: scope) {
                        await events.emit(.alreadyDone(step: step.id, item: work.item, host: host.name))
                        return .done(outputs: tagged(verified, host: host.name), alreadyDone: true, attempts: attempt)
                    }
                    attempt += 1
                    continue
                }
                switch step.onFailure {
                case .abort:
                    return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: false, uncertain: failure.uncertain,
                                   noAnswer: failure.noAnswer)
                case .continue:
                    return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: true, uncertain: failure.uncertain,
                                   noAnswer: failure.noAnswer)
                case .ask:
                    let question = FailureQuestion(stepID: step.id, item: work.item.label.isEmpty ? host.name : "\(work.item.label) on \(host.name)",
                                                   error: failure.reason, attempts: attempt)
                    switch await gate.decideFailure(question) {
                    case .retry:
                        attempt += 1
                        continue
                    case .continue:
                        return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: true, uncertain: failure.uncertain,
                                   noAnswer: failure.noAnswer)
                    case .abort:
                        return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: false, uncertain: failure.uncertain,
                                   noAnswer: failure.noAnswer)
                    }
                }
            }
        }
    }

    func isWait(_ step: Step) -> Bool {
        if case .wait = step.kind { return true }
        return false
    }

    /// Adds `host` to every map in list outputs (`vms` from several hosts stay attributable).
    /// A list whose items all name their host already (ESXi listings do) is kept as it is.
    func tagged(_ outputs: [String: Value], host: String) -> [String: Value] {
        let lacksHost = { (item: Value) in item.mapValue.map { $0["host"] == nil } ?? false }
        return outputs.mapValues { value in
            guard let items = value.listValue, items.contains(where: lacksHost) else { return value }
            return .list(items.map { item in
                guard lacksHost(item), var fields = item.mapValue else { return item }
                fields["host"] = .string(host)
                return .map(fields)
            })
        }
    }

    struct AttemptFailure: Error {
        var reason: String
        var evidence: String?
        /// The command may have taken effect anyway (it timed out, or the session dropped).
        var uncertain = false
        /// It had not ended when given up on: another attempt would overlap it.
        var stillRunning = false
        /// The run was stopped (Ctrl-C) while a wait still had time: nothing was decided.
        var interrupted = false
        /// The host gave no answer (no session, a timeout): "did not answer" is true of it.
        var noAnswer = false
        /// It hung: connected, sent, no answer within the attempt's time.
        var timedOut = false
    }

    /// The order items wait for a slot in virtual time: the step's place in the runbook, the item, the host.
    func rank(_ work: ItemWork, host: String) -> AsyncLimiter.Rank {
        AsyncLimiter.Rank(step: runbook.steps.firstIndex { $0.id == work.step.id } ?? runbook.steps.count, item: work.item.index, host: host)
    }

    func perform(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
        switch work.step.kind {
        case .run(let template):
            return try await runCommand(template, expectation: work.step.expect, captures: work.step.captures, work: work, host: host, scope: scope)
        case .action(let call):
            return try await runAction(call, work: work, host: host, scope: scope)
        case .wait(let wait):
            return try await runWait(wait, work: work, host: host, scope: scope)
        case .approval, .probe:
            return [:]
        }
    }

    func runCommand(_ template: LocatedTemplate, expectation: Expectation, captures: [Capture], work: ItemWork,
                            host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
        let command = try template.template.shellCommand(in: scope)
        guard command.isComplete else { throw AttemptFailure(reason: "the command still holds values known only at run time: \(command.text)") }
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: work.step.mutates, events: events, clock: options.clock,
                              parsesOutput: false)
        let output = try await shell.run(command.text)
        var outputs: [String: Value] = ["stdout": .string(output.stdout), "stderr": .string(output.stderr), "exit_status": .int(Int(output.exitStatus))]
        do {
            for capture in captures { outputs[capture.name] = try CaptureReader.read(capture, from: output.stdout) }
        } catch {
            throw AttemptFailure(reason: "\(error)", evidence: shell.evidence)
        }
        if let problem = try ExpectationCheck.problem(expectation, output: output, outputs: outputs, scope: scope) {
            throw AttemptFailure(reason: problem, evidence: shell.evidence)
        }
        return outputs
    }

    func runAction(_ call: ActionCall, work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
        guard let action = ActionCatalog.action(named: call.name) else { throw AttemptFailure(reason: "unknown action \(call.name)") }
        let arguments = try actionArguments(call, scope)
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: action.mutates, events: events, clock: options.clock)
        do {
            let outputs = try await action.perform(arguments, shell)
            if case .action = work.step.kind, let problem = try ExpectationCheck.problem(work.step.expect, outputs: outputs, scope: scope) {
                throw AttemptFailure(reason: problem, evidence: shell.evidence)
            }
            return outputs
        } catch let failure as AttemptFailure {
            throw failure
        } catch let error as TransportError {
            let uncertain = [.sessionDropped, .commandTimedOut].contains(error.kind) && action.mutates
            throw AttemptFailure(reason: "\(error)", evidence: shell.evidence, uncertain: uncertain, noAnswer: true, timedOut: error.kind == .commandTimedOut)
        } catch {
            throw AttemptFailure(reason: "\(call.name) on \(host.name): \(error)", evidence: shell.evidence)
        }
    }

    func actionArguments(_ call: ActionCall, _ scope: TemplateScope) throws -> ActionArguments {
        var values: [String: Value] = [:]
        for (name, template) in call.arguments { values[name] = try template.template.value(in: scope) }
        return ActionArguments(values)
    }

    func failure(_ reason: String) -> ItemOutcome {
        ItemOutcome(status: .failed, hosts: [], started: nil, duration: .zero, attempts: 0, reason: reason, evidence: nil, outputs: [:])
    }
}
