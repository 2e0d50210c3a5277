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
}

/// What one host instance of an item ended with.
enum HostResult: Sendable {
    case done(outputs: [String: Value], alreadyDone: Bool, attempts: Int)
    case failed(reason: String, evidence: String?, attempts: Int, continued: Bool)
    case planned(outputs: [String: Value])
    case skipped(reason: String)
    /// In flight when the run died, no verify check, nobody to ask: the run stops here.
    case undecided(reason: String)
}

/// Runs step items: conditions, hosts, retries, timeouts, verify checks, approvals, probes,
/// waits, and the dry-run plan. The scheduler decides when; this decides how.
final class StepRunner: Sendable {
    let inventory: Inventory
    let transport: any Transport
    let gate: any ApprovalGate
    let events: EventSink
    let limits: ConcurrencyLimits
    let options: RunOptions
    let stop: StopSignal
    let records: RunRecords
    let inFlight: Set<ResumeState.Key>

    init(inventory: Inventory, transport: any Transport, gate: any ApprovalGate, events: EventSink, limits: ConcurrencyLimits,
         options: RunOptions, stop: StopSignal, records: RunRecords, inFlight: Set<ResumeState.Key> = []) {
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
        let started = Date()
        let clock = ContinuousClock.now
        var outcome: ItemOutcome
        if let skipped = skippedByCondition(work) {
            outcome = skipped
        } else {
            outcome = await runKind(work)
        }
        outcome.started = started
        outcome.duration = ContinuousClock.now - clock
        outcome.outputs["status"] = .string(outcome.status.rawValue)
        if !work.step.set.isEmpty, outcome.isSuccess || outcome.status == .planned { computeSet(work, into: &outcome) }
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
        return ItemOutcome(status: .skipped, hosts: [], started: nil, duration: .zero, attempts: 0, reason: "when: \(when.source) is false", evidence: nil, outputs: [:])
    }

    private func readsHost(_ condition: LocatedCondition) -> Bool {
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
        let results = await withTaskGroup(of: (Int, HostResult).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask {
                    var roots = work.roots
                    roots["host"] = host.templateValue
                    return (index, await self.runOnHost(work, host: host, scope: DictionaryScope(roots)))
                }
            }
            var collected = [HostResult?](repeating: nil, count: hosts.count)
            for await (index, result) in group { collected[index] = result }
            return collected.map { $0! }
        }
        return combine(results, hosts: hosts.map(\.name))
    }

    private enum ResolvedHosts {
        case known([Inventory.Host])
        case unknown(String)
    }

    private func resolveHosts(_ step: Step, _ scope: TemplateScope) throws -> ResolvedHosts {
        guard let on = step.on else { throw EvaluationError("step '\(step.id)' has no on:") }
        let value = try on.template.value(in: scope)
        if case .unknown(let text) = value { return .unknown(text) }
        let names: [String] = (value.listValue ?? [value]).map { ($0["name"] ?? $0).text }.filter { !$0.isEmpty }
        if names.isEmpty {
            // A plan drawn before discovery ran cannot know the hosts yet.
            if options.dryRun { return .unknown(on.template.source.replacingOccurrences(of: "{{", with: "").replacingOccurrences(of: "}}", with: "").trimmingCharacters(in: .whitespaces)) }
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

    private func combine(_ results: [HostResult], hosts: [String]) -> ItemOutcome {
        var outcome = ItemOutcome(status: .succeeded, hosts: hosts, started: nil, duration: .zero, attempts: 0, reason: nil, evidence: nil, outputs: [:])
        var perHostOutputs: [[String: Value]] = []
        var failures: [String] = []
        var evidence: [String] = []
        var allDone = true
        var planned = false
        var skipped: [String] = []
        var continued = false
        var undecided: [String] = []
        for (index, result) in results.enumerated() {
            switch result {
            case .done(let outputs, let alreadyDone, let attempts):
                perHostOutputs.append(outputs)
                allDone = allDone && alreadyDone
                outcome.attempts = max(outcome.attempts, attempts)
            case .failed(let reason, let shown, let attempts, let isContinued):
                failures.append(hosts.count > 1 ? "\(hosts[index]): \(reason)" : reason)
                if let shown { evidence.append(shown) }
                outcome.attempts = max(outcome.attempts, attempts)
                continued = isContinued
            case .planned(let outputs):
                planned = true
                perHostOutputs.append(outputs)
            case .skipped(let reason):
                skipped.append(reason)
            case .undecided(let reason):
                undecided.append(reason)
            }
        }
        outcome.outputs = OutputAggregation.combine(perHostOutputs)
        if !failures.isEmpty {
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
        } else if allDone && !perHostOutputs.isEmpty {
            outcome.status = .alreadyDone
        }
        return outcome
    }

    private func runOnHost(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> HostResult {
        let step = work.step
        if let when = step.when, readsHost(when) || options.dryRun {
            do {
                switch try ExpressionEvaluator.condition(when.expression, in: scope) {
                case false?: return .skipped(reason: "when: \(when.source) is false")
                case nil:
                    if options.dryRun { return plannedResult(await plan(work, host: host.name, scope: scope, note: "only if \(when.source)")) }
                    return .failed(reason: "when: \(when.source) cannot be decided", evidence: nil, attempts: 0, continued: false)
                case true?: break
                }
            } catch {
                return .failed(reason: "when: \(error)", evidence: nil, attempts: 0, continued: false)
            }
        }
        if options.dryRun && (options.offline || step.mutates || isWait(step)) {
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
            case .failure(let failure):
                if attempt < step.retry.attempts && !stop.isRequested {
                    let delay = step.retry.delay(before: attempt + 1)
                    await events.emit(.retrying(step: step.id, item: work.item, nextAttempt: attempt + 1, delay: delay, reason: failure.reason))
                    try? await Task.sleep(for: delay)
                    attempt += 1
                    continue
                }
                switch step.onFailure {
                case .abort:
                    return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: false)
                case .continue:
                    return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: true)
                case .ask:
                    let question = FailureQuestion(stepID: step.id, item: work.item.label.isEmpty ? host.name : "\(work.item.label) on \(host.name)",
                                                   error: failure.reason, attempts: attempt)
                    switch await gate.decideFailure(question) {
                    case .retry:
                        attempt += 1
                        continue
                    case .continue:
                        return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: true)
                    case .abort:
                        return .failed(reason: failure.reason, evidence: failure.evidence, attempts: attempt, continued: false)
                    }
                }
            }
        }
    }

    /// An item that was running when the run died may or may not have changed the host. Its
    /// verify check decides; without one, the operator does. Nil: run it (again).
    private func settleInFlight(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> HostResult? {
        let step = work.step
        if hasVerifyCheck(step) {
            if let verified = await alreadyDone(work, host: host, scope: scope) {
                await events.emit(.inFlightSettled(step: step.id, item: work.item, host: host.name,
                                                   detail: "its verify check shows the change happened: not sent again"))
                return .done(outputs: verified, alreadyDone: true, attempts: 0)
            }
            await events.emit(.inFlightSettled(step: step.id, item: work.item, host: host.name,
                                               detail: "its verify check shows the change did not happen: running it again"))
            return nil
        }
        let question = InFlightQuestion(stepID: step.id, item: work.item.label, host: host.name)
        switch await gate.decideInFlight(question) {
        case .done(let by):
            await events.emit(.inFlightSettled(step: step.id, item: work.item, host: host.name, detail: "\(by) checked: the change happened; not sent again"))
            return .done(outputs: [:], alreadyDone: true, attempts: 0)
        case .runAgain(let by):
            await events.emit(.inFlightSettled(step: step.id, item: work.item, host: host.name, detail: "\(by) checked: the change did not happen; running it again"))
            return nil
        case .unavailable:
            return .undecided(reason: "was running on \(host.name) when the run stopped, so its change may or may not have happened, and it has no verify check; "
                              + "check the host, then run `drctl resume \(options.runID)` on a terminal to say which")
        }
    }

    /// A wait repeats its check by design, so an interrupted one simply starts again; but when its
    /// check changes the host (a rescan), its action's verify is asked first whether `until`
    /// already holds, so the change is not made again for nothing.
    private func waitAlreadySatisfied(_ work: ItemWork, _ wait: Wait, host: Inventory.Host, scope: DictionaryScope) async -> HostResult? {
        guard case .action(let call) = wait.check, let verify = ActionCatalog.action(named: call.name)?.verify else { return nil }
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: false, events: events)
        guard let outputs = try? await verify(try actionArguments(call, scope), shell) else { return nil }
        var roots = scope.roots
        roots["result"] = .map(outputs)
        guard (try? ExpressionEvaluator.condition(wait.until.expression, in: DictionaryScope(roots))) == true else { return nil }
        await events.emit(.inFlightSettled(step: work.step.id, item: work.item, host: host.name,
                                           detail: "its check's verify shows until \"\(wait.until.source)\" already holds: not repeated"))
        return .done(outputs: outputs, alreadyDone: true, attempts: 0)
    }

    private func hasVerifyCheck(_ step: Step) -> Bool {
        switch step.verify {
        case nil, .disabled?: return false
        case .builtIn?:
            guard case .action(let call) = step.kind else { return false }
            return ActionCatalog.action(named: call.name)?.verify != nil
        case .run?, .action?: return true
        }
    }

    private func isWait(_ step: Step) -> Bool {
        if case .wait = step.kind { return true }
        return false
    }

    private func plannedResult(_ outcome: ItemOutcome) -> HostResult {
        .planned(outputs: outcome.outputs)
    }

    /// Adds `host` to every map in list outputs (`vms` from several hosts stay attributable).
    private func tagged(_ outputs: [String: Value], host: String) -> [String: Value] {
        outputs.mapValues { value in
            guard let items = value.listValue else { return value }
            return .list(items.map { item in
                guard var fields = item.mapValue, fields["host"] == nil else { return item }
                fields["host"] = .string(host)
                return .map(fields)
            })
        }
    }

    struct AttemptFailure: Error {
        var reason: String
        var evidence: String?
    }

    private func attemptOnce(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> Result<[String: Value], AttemptFailure> {
        let timeout = work.step.timeout ?? options.defaultTimeout
        do {
            let outputs = try await limits.withSlot(host: host.name) {
                try await withTimeout(timeout) { try await self.perform(work, host: host, scope: scope) }
            }
            return .success(outputs)
        } catch is TimeoutError {
            return .failure(AttemptFailure(reason: "timed out after \(DurationText.format(timeout)) on \(host.name) (raise the step's timeout: if the host is slow)"))
        } catch let failure as AttemptFailure {
            return .failure(failure)
        } catch {
            return .failure(AttemptFailure(reason: "\(error)"))
        }
    }

    private func perform(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
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

    private func runCommand(_ template: LocatedTemplate, expectation: Expectation, captures: [Capture], work: ItemWork,
                            host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
        let command = try template.template.shellCommand(in: scope)
        guard command.isComplete else { throw AttemptFailure(reason: "the command still holds values known only at run time: \(command.text)") }
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: work.step.mutates, events: events)
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

    private func runAction(_ call: ActionCall, work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
        guard let action = ActionCatalog.action(named: call.name) else { throw AttemptFailure(reason: "unknown action \(call.name)") }
        let arguments = try actionArguments(call, scope)
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: action.mutates, events: events)
        do {
            let outputs = try await action.perform(arguments, shell)
            if case .action = work.step.kind, let problem = try ExpectationCheck.problem(work.step.expect, outputs: outputs, scope: scope) {
                throw AttemptFailure(reason: problem, evidence: shell.evidence)
            }
            return outputs
        } catch let failure as AttemptFailure {
            throw failure
        } catch let error as TransportError {
            throw AttemptFailure(reason: "\(error)", evidence: shell.evidence)
        } catch {
            throw AttemptFailure(reason: "\(call.name) on \(host.name): \(error)", evidence: shell.evidence)
        }
    }

    func actionArguments(_ call: ActionCall, _ scope: TemplateScope) throws -> ActionArguments {
        var values: [String: Value] = [:]
        for (name, template) in call.arguments { values[name] = try template.template.value(in: scope) }
        return ActionArguments(values)
    }

    private func runWait(_ wait: Wait, work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
        let timeout = try waitTimeout(wait, scope)
        let deadline = ContinuousClock.now + timeout
        var attempts = 0
        var lastProblem = ""
        while true {
            attempts += 1
            var result: [String: Value] = [:]
            do {
                switch wait.check {
                case .run(let template):
                    result = try await runCommand(template, expectation: .anyExit, captures: work.step.captures, work: work, host: host, scope: scope)
                case .action(let call):
                    result = try await runAction(call, work: work, host: host, scope: scope)
                case .probe:
                    return [:]  // probe waits run without a host: waitForProbe
                }
                var roots = scope.roots
                roots["result"] = .map(result)
                if try ExpressionEvaluator.condition(wait.until.expression, in: DictionaryScope(roots)) == true {
                    result["attempts"] = .int(attempts)
                    return result
                }
                lastProblem = "the last check gave " + describeOutputs(result)
            } catch let failure as AttemptFailure {
                lastProblem = failure.reason
            }
            let now = ContinuousClock.now
            if now >= deadline || stop.isRequested {
                throw AttemptFailure(reason: "until \"\(wait.until.source)\" did not hold within \(DurationText.format(timeout)) (\(attempts) checks); \(lastProblem)")
            }
            try await Task.sleep(for: min(wait.interval, deadline - now))
        }
    }

    /// A wait's timeout: fixed, or a template such as `{{ params.return_timeout }}`.
    private func waitTimeout(_ wait: Wait, _ scope: DictionaryScope) throws -> Duration {
        guard let template = wait.timeoutTemplate else { return wait.timeout }
        let text = try template.template.value(in: scope).text
        guard let duration = DurationText.parse(text) else { throw EvaluationError("wait timeout '\(text)' is not a duration such as 10m") }
        return duration
    }

    private func describeOutputs(_ outputs: [String: Value]) -> String {
        outputs.keys.sorted().filter { $0 != "stderr" }.map { key in
            let text = outputs[key]!.text
            return "\(key)=\(text.count > 80 ? String(text.prefix(80)) + "…" : text)"
        }.joined(separator: ", ")
    }

    /// Runs the step's verify check; the outputs when its effect already exists, else nil.
    private func alreadyDone(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> [String: Value]? {
        guard let verify = work.step.verify else { return nil }
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: false, events: events)
        do {
            return try await limits.withSlot(host: host.name) { () -> [String: Value]? in
                switch verify {
                case .disabled: return nil
                case .builtIn:
                    guard case .action(let call) = work.step.kind, let check = ActionCatalog.action(named: call.name)?.verify else { return nil }
                    return try await check(try self.actionArguments(call, scope), shell)
                case .run(let template, let expectation):
                    let command = try template.template.shellCommand(in: scope)
                    guard command.isComplete else { return nil }
                    let output = try await shell.run(command.text)
                    let outputs: [String: Value] = ["stdout": .string(output.stdout), "stderr": .string(output.stderr), "exit_status": .int(Int(output.exitStatus))]
                    return try ExpectationCheck.problem(expectation, output: output, outputs: outputs, scope: scope) == nil ? outputs : nil
                case .action(let call, let that):
                    guard let action = ActionCatalog.action(named: call.name) else { return nil }
                    let outputs = try await action.perform(try self.actionArguments(call, scope), shell)
                    guard let that else { return outputs }
                    var roots = scope.roots
                    roots["result"] = .map(outputs)
                    return try ExpressionEvaluator.condition(that.expression, in: DictionaryScope(roots)) == true ? outputs : nil
                }
            }
        } catch {
            // A check that cannot run proves nothing: do the work.
            return nil
        }
    }

    // MARK: Probes and approvals

    /// Resolves a probe's target to a request: an inventory host, or `address:port` over TCP.
    private func probeRequest(_ probe: Probe, target: String) throws -> ProbeRequest {
        if let host = inventory.host(named: target) {
            return ProbeRequest(method: probe.method, host: host, address: host.address,
                                port: probe.port ?? (probe.method == .ssh ? host.port : 443), timeout: options.probeTimeout)
        }
        let parts = target.split(separator: ":")
        guard probe.method == .tcp, let address = parts.first else {
            throw EvaluationError("probe target '\(target)' is not an inventory host\(Suggestion.hint(for: target, among: inventory.hosts.map(\.name))); an SSH probe needs one")
        }
        guard let port = probe.port ?? (parts.count > 1 ? Int(parts[1]) : nil) else { throw EvaluationError("probe target '\(target)' has no port") }
        return ProbeRequest(method: .tcp, host: nil, address: String(address), port: port, timeout: options.probeTimeout)
    }

    private func sendProbe(_ request: ProbeRequest) async -> ProbeResult {
        (try? await limits.withSlot(host: nil) { await self.transport.probe(request) }) ?? ProbeResult(state: .down, detail: "probe could not run")
    }

    private func probeOutputs(_ result: ProbeResult) -> [String: Value] {
        ["state": .string(result.state.rawValue), "reachable": .bool(result.state == .up), "detail": .string(result.detail)]
    }

    private func runProbe(_ work: ItemWork, _ probe: Probe) async -> ItemOutcome {
        let scope = DictionaryScope(work.roots)
        let target: Value
        do {
            target = try probe.target.template.value(in: scope)
        } catch {
            return failure("probe target: \(error)")
        }
        let description = "\(probe.method.rawValue) probe of \(target.text)\(probe.port.map { ":\($0)" } ?? ""), expect \(probe.expect.rawValue)"
        if options.offline || target.isUnknown {
            return await plan(work, host: nil, scope: scope, note: nil, lines: [description])
        }
        let request: ProbeRequest
        do {
            request = try probeRequest(probe, target: target.text)
        } catch {
            return failure("\(error)")
        }
        if options.dryRun {
            await records.addPlan(PlanEntry(sequence: 0, step: work.step.id, title: work.step.title, kind: "probe", item: work.item, host: nil,
                                            lines: [description], behindApprovals: work.behindApprovals, note: nil, mutates: false, executed: true),
                                  events: events)
        }
        let result = await sendProbe(request)
        var outcome = ItemOutcome(status: .succeeded, hosts: [], started: nil, duration: .zero, attempts: 1, reason: nil, evidence: nil,
                                  outputs: probeOutputs(result))
        if result.state != probe.expect {
            outcome.status = work.step.onFailure == .continue ? .failedContinued : .failed
            outcome.reason = "expected \(target.text) to be \(probe.expect.rawValue), but it is \(result.state.rawValue): \(result.detail)"
        }
        return outcome
    }

    /// A wait whose check is a probe from drctl: no host runs anything.
    private func waitForProbe(_ work: ItemWork, _ wait: Wait, _ probe: Probe) async -> ItemOutcome {
        let scope = DictionaryScope(work.roots)
        if options.dryRun {
            return await plan(work, host: nil, scope: scope, note: nil)
        }
        let request: ProbeRequest
        do {
            request = try probeRequest(probe, target: try probe.target.template.value(in: scope).text)
        } catch {
            return failure("\(error)")
        }
        let timeout: Duration
        do {
            timeout = try waitTimeout(wait, scope)
        } catch {
            return failure("\(error)")
        }
        let deadline = ContinuousClock.now + timeout
        var attempts = 0
        while true {
            attempts += 1
            let result = await sendProbe(request)
            var outputs = probeOutputs(result)
            var roots = work.roots
            roots["result"] = .map(outputs)
            if (try? ExpressionEvaluator.condition(wait.until.expression, in: DictionaryScope(roots))) == true {
                outputs["attempts"] = .int(attempts)
                return ItemOutcome(status: .succeeded, hosts: [], started: nil, duration: .zero, attempts: attempts, reason: nil, evidence: nil, outputs: outputs)
            }
            let now = ContinuousClock.now
            if now >= deadline || stop.isRequested {
                var outcome = failure("until \"\(wait.until.source)\" did not hold within \(DurationText.format(timeout)) (\(attempts) probes); last: \(result.detail)")
                outcome.outputs = outputs
                if work.step.onFailure == .continue { outcome.status = .failedContinued }
                return outcome
            }
            try? await Task.sleep(for: min(wait.interval, deadline - now))
        }
    }

    private func runApproval(_ work: ItemWork, _ approval: Approval) async -> ItemOutcome {
        let scope = DictionaryScope(work.roots)
        let prompt = (try? approval.prompt.template.value(in: scope).text) ?? approval.prompt.template.source
        let evidence = approval.show.map { shown in
            (label: shown.label, value: (try? shown.value.template.value(in: scope).text) ?? "(unavailable)")
        }
        if options.dryRun {
            return await plan(work, host: nil, scope: scope, note: nil, lines: ["APPROVAL: \(prompt)"] + evidence.map { "  \($0.label): \($0.value)" })
        }
        await events.emit(.approvalRequested(step: work.step.id, prompt: prompt))
        let decision = await gate.decide(ApprovalRequest(stepID: work.step.id, title: work.step.title, prompt: prompt, evidence: evidence))
        await events.emit(.approvalDecided(step: work.step.id, decision: decision))
        await records.addApproval(RunSummary.ApprovalRecord(step: work.step.id, prompt: prompt, decision: decision, at: Date()))
        switch decision {
        case .approved(let by, let reason):
            return ItemOutcome(status: .succeeded, hosts: [], started: nil, duration: .zero, attempts: 1, reason: nil, evidence: nil,
                               outputs: ["approved_by": .string(by), "reason": .string(reason)])
        case .denied(let by, let reason):
            return ItemOutcome(status: .denied, hosts: [], started: nil, duration: .zero, attempts: 1,
                               reason: "denied by \(by)" + (reason.isEmpty ? "" : ": \(reason)"), evidence: nil,
                               outputs: ["approved_by": "", "reason": .string(reason)])
        case .unavailable:
            return ItemOutcome(status: .awaitingApproval, hosts: [], started: nil, duration: .zero, attempts: 0,
                               reason: "waiting for approval: \(prompt) (run it on a terminal, or pass --auto-approve)", evidence: nil, outputs: [:])
        }
    }

    // MARK: Plans

    /// Records a dry-run entry and gives the step placeholder outputs.
    private func plan(_ work: ItemWork, host: String?, scope: DictionaryScope, note: String?, lines: [String]? = nil) async -> ItemOutcome {
        let step = work.step
        let shown = lines ?? planLines(step, scope)
        let entry = PlanEntry(sequence: 0, step: step.id, title: step.title, kind: step.kind.name, item: work.item, host: host, lines: shown,
                              behindApprovals: work.behindApprovals, note: note, mutates: step.mutates, executed: false)
        await records.addPlan(entry, events: events)
        var outputs: [String: Value] = [:]
        for name in step.outputNames where name != "status" { outputs[name] = .unknown("steps.\(step.id).\(name)") }
        return ItemOutcome(status: .planned, hosts: host.map { [$0] } ?? [], started: nil, duration: .zero, attempts: 0, reason: note, evidence: nil, outputs: outputs)
    }

    private func planLines(_ step: Step, _ scope: DictionaryScope) -> [String] {
        func render(_ template: LocatedTemplate) -> String {
            (try? template.template.shellCommand(in: scope).text) ?? template.template.source
        }
        func actionLines(_ call: ActionCall) -> [String] {
            guard let action = ActionCatalog.action(named: call.name) else { return [call.name] }
            guard let arguments = try? actionArguments(call, scope), !arguments.values.values.contains(where: \.isUnknown),
                  let commands = try? action.plan(arguments) else {
                let shown = call.arguments.keys.sorted().map { name in
                    "\(name)=" + ((try? call.arguments[name]!.template.value(in: scope).text) ?? call.arguments[name]!.template.source)
                }.joined(separator: " ")
                return ["\(call.name) \(shown)"]
            }
            return commands
        }
        switch step.kind {
        case .run(let template): return [render(template)]
        case .action(let call): return actionLines(call)
        case .wait(let wait):
            let check: [String]
            switch wait.check {
            case .run(let template): check = [render(template)]
            case .action(let call): check = actionLines(call)
            case .probe(let probe):
                check = ["\(probe.method.rawValue) probe of \((try? probe.target.template.value(in: scope).text) ?? probe.target.template.source)\(probe.port.map { ":\($0)" } ?? "")"]
            }
            let limit = (try? waitTimeout(wait, scope)).map(DurationText.format) ?? wait.timeoutTemplate?.template.source ?? ""
            return check.map { "repeat every \(DurationText.format(wait.interval)): \($0)" } + ["until \(wait.until.source) (give up after \(limit))"]
        case .approval(let approval): return ["APPROVAL: \(approval.prompt.template.source)"]
        case .probe(let probe): return ["\(probe.method.rawValue) probe of \(probe.target.template.source), expect \(probe.expect.rawValue)"]
        }
    }

    private func failure(_ reason: String) -> ItemOutcome {
        ItemOutcome(status: .failed, hosts: [], started: nil, duration: .zero, attempts: 0, reason: reason, evidence: nil, outputs: [:])
    }
}
