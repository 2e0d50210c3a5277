import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// Waits: a check repeated on a host until its condition holds.
extension StepRunner {
    func runWait(_ wait: Wait, work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async throws -> [String: Value] {
        let timeout = try waitTimeout(wait, scope)
        let deadline = options.clock.elapsed + timeout
        let deadlineDate = options.clock.date(at: deadline)
        var attempts = 0
        var lastProblem = ""
        var lastGaveNoAnswer = false
        while true {
            attempts += 1
            var result: [String: Value] = [:]
            do {
                let limit = attemptLimit(work.step)
                switch wait.check {
                case .run(let template):
                    result = try await withinLimit(limit) {
                        try await self.runCommand(template, expectation: .anyExit, captures: work.step.captures, work: work, host: host, scope: scope)
                    }
                case .action(let call):
                    result = try await withinLimit(limit) { try await self.runAction(call, work: work, host: host, scope: scope) }
                case .probe:
                    return [:]  // probe waits run without a host: waitForProbe
                }
                var roots = scope.roots
                roots["result"] = .map(result)
                if try ExpressionEvaluator.condition(wait.until.expression, in: DictionaryScope(roots)) == true {
                    await events.emit(.waitChecked(step: work.step.id, item: work.item, host: host.name, check: attempts, holds: true,
                                                   detail: describeOutputs(result), deadline: deadlineDate))
                    result["attempts"] = .int(attempts)
                    return result
                }
                lastProblem = "the last check gave " + describeOutputs(result)
                lastGaveNoAnswer = false
            } catch let failure as AttemptFailure {
                lastProblem = failure.reason
                lastGaveNoAnswer = failure.noAnswer
            } catch let error as TransportError {
                lastProblem = "\(error)"
                lastGaveNoAnswer = true
            }
            await events.emit(.waitChecked(step: work.step.id, item: work.item, host: host.name, check: attempts, holds: false,
                                           detail: lastProblem, deadline: deadlineDate))
            let now = options.clock.elapsed
            if stop.isRequested && now < deadline {
                throw AttemptFailure(reason: "interrupted while waiting, after \(attempts) check\(attempts == 1 ? "" : "s"): a resume waits again", interrupted: true)
            }
            if now >= deadline {
                throw AttemptFailure(reason: "until \"\(wait.until.source)\" did not hold within \(DurationText.format(timeout)) (\(attempts) checks); \(lastProblem)",
                                     noAnswer: lastGaveNoAnswer)
            }
            await stop.pause(for: min(wait.interval, deadline - now), on: options.clock)
        }
    }

    /// A wait's timeout: fixed, or a template such as `{{ params.return_timeout }}`.
    func waitTimeout(_ wait: Wait, _ scope: DictionaryScope) throws -> Duration {
        guard let template = wait.timeoutTemplate else { return wait.timeout }
        let text = try template.template.value(in: scope).text
        guard let duration = DurationText.parse(text), duration > .zero else {
            throw EvaluationError("wait timeout '\(text)' is not a duration longer than 0s, such as 10m")
        }
        return duration
    }

    func describeOutputs(_ outputs: [String: Value]) -> String {
        outputs.keys.sorted().filter { $0 != "stderr" }.map { key in
            let text = outputs[key]!.text
            return "\(key)=\(text.count > 80 ? String(text.prefix(80)) + "…" : text)"
        }.joined(separator: ", ")
    }

    /// A wait repeats its check by design, so an interrupted one simply starts again; but when its
    /// check changes the host (a rescan), its action's verify is asked first whether `until`
    /// already holds, so the change is not made again for nothing.
    func waitAlreadySatisfied(_ work: ItemWork, _ wait: Wait, host: Inventory.Host, scope: DictionaryScope) async -> HostResult? {
        guard case .action(let call) = wait.check, let verify = ActionCatalog.action(named: call.name)?.verify else { return nil }
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: false, events: events, clock: options.clock)
        guard let outputs = try? await verify(try actionArguments(call, scope), shell) else { return nil }
        var roots = scope.roots
        roots["result"] = .map(outputs)
        guard (try? ExpressionEvaluator.condition(wait.until.expression, in: DictionaryScope(roots))) == true else { return nil }
        await events.emit(.inFlightSettled(step: work.step.id, item: work.item, host: host.name,
                                           detail: "its check's verify shows until \"\(wait.until.source)\" already holds: not repeated"))
        return .done(outputs: outputs, alreadyDone: true, attempts: 0)
    }
}
