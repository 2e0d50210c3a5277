import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// Probes: reachability checked from drctl itself, once or until it holds.
extension StepRunner {
    /// Resolves a probe's target to a request: an inventory host, or `address:port` over TCP.
    func probeRequest(_ probe: Probe, target: String) throws -> ProbeRequest {
        if let host = inventory.host(named: target) {
            return ProbeRequest(method: probe.method, host: host, address: host.address,
                                port: probe.port ?? (probe.method == .ssh ? host.port : 443), timeout: options.probeTimeout, paths: probe.paths)
        }
        let parts = target.split(separator: ":")
        guard probe.method != .ssh, let address = parts.first else {
            throw EvaluationError("probe target '\(target)' is not an inventory host\(Suggestion.hint(for: target, among: inventory.hosts.map(\.name))); an SSH probe needs one")
        }
        guard let port = probe.port ?? (parts.count > 1 ? Int(parts[1]) : nil) ?? (probe.method == .https ? 443 : nil) else {
            throw EvaluationError("probe target '\(target)' has no port")
        }
        return ProbeRequest(method: probe.method, host: nil, address: String(address), port: port, timeout: options.probeTimeout, paths: probe.paths)
    }

    func sendProbe(_ request: ProbeRequest) async -> ProbeResult {
        let rank = AsyncLimiter.Rank(step: -1, item: 0, host: request.address)
        return (try? await limits.withSlot(host: nil, rank: rank) { await self.transport.probe(request) }) ?? ProbeResult(state: .down, detail: "probe could not run")
    }

    func probeOutputs(_ result: ProbeResult) -> [String: Value] {
        ["state": .string(result.state.rawValue), "reachable": .bool(result.state == .up), "detail": .string(result.detail)]
    }

    func runProbe(_ work: ItemWork, _ probe: Probe) async -> ItemOutcome {
        let scope = DictionaryScope(work.roots)
        let target: Value
        do {
            target = try probe.target.template.value(in: scope)
        } catch {
            return failure("probe target: \(error)")
        }
        let description = "\(probe.method.rawValue) probe of \(target.text)\(probe.port.map { ":\($0)" } ?? ""), expect \(probe.expect?.rawValue ?? "either")"
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
        await events.emit(.probed(step: work.step.id, item: work.item, target: description, state: result.state.rawValue, detail: result.detail))
        var outcome = ItemOutcome(status: .succeeded, hosts: [], started: nil, duration: .zero, attempts: 1, reason: nil, evidence: nil,
                                  outputs: probeOutputs(result))
        if let expected = probe.expect, result.state != expected {
            outcome.status = work.step.onFailure == .continue ? .failedContinued : .failed
            outcome.reason = "expected \(target.text) to be \(expected.rawValue), but it is \(result.state.rawValue): \(result.detail)"
        } else if probe.expect == nil {
            // A question, answered: a finding either way, never a failure.
            outcome.reason = "\(target.text) is \(result.state.rawValue): \(result.detail)"
        }
        return outcome
    }

    /// A wait whose check is a probe from drctl: no host runs anything.
    func waitForProbe(_ work: ItemWork, _ wait: Wait, _ probe: Probe) async -> ItemOutcome {
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
        let deadline = options.clock.elapsed + timeout
        let deadlineDate = options.clock.date(at: deadline)
        let target = "\(probe.method.rawValue) probe of \(request.address):\(request.port)"
        var attempts = 0
        while true {
            attempts += 1
            let result = await sendProbe(request)
            var outputs = probeOutputs(result)
            var roots = work.roots
            roots["result"] = .map(outputs)
            let holds = (try? ExpressionEvaluator.condition(wait.until.expression, in: DictionaryScope(roots))) == true
            await events.emit(.probed(step: work.step.id, item: work.item, target: target, state: result.state.rawValue, detail: result.detail))
            await events.emit(.waitChecked(step: work.step.id, item: work.item, host: nil, check: attempts, holds: holds,
                                           detail: "\(result.state.rawValue): \(result.detail)", deadline: deadlineDate))
            if holds {
                outputs["attempts"] = .int(attempts)
                return ItemOutcome(status: .succeeded, hosts: [], started: nil, duration: .zero, attempts: attempts, reason: nil, evidence: nil, outputs: outputs)
            }
            let now = options.clock.elapsed
            if stop.isRequested && now < deadline {
                var outcome = failure("interrupted while waiting, after \(attempts) probe\(attempts == 1 ? "" : "s"): a resume waits again")
                outcome.status = .notStarted
                return outcome
            }
            if now >= deadline {
                var outcome = failure("until \"\(wait.until.source)\" did not hold within \(DurationText.format(timeout)) (\(attempts) probes); last: \(result.detail)")
                outcome.outputs = outputs
                if work.step.onFailure == .continue { outcome.status = .failedContinued }
                return outcome
            }
            await stop.pause(for: min(wait.interval, deadline - now), on: options.clock)
        }
    }
}
