import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// Verify checks: is a change already there, and settling what a dead run left in flight.
extension StepRunner {
    /// Runs the step's verify check; the outputs when its effect already exists, else nil.
    func alreadyDone(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> [String: Value]? {
        guard let verify = work.step.verify else { return nil }
        let shell = HostShell(transport: transport, host: host, step: work.step.id, item: work.item, mutates: false, events: events, clock: options.clock)
        do {
            return try await limits.withSlot(host: host.name, rank: rank(work, host: host.name)) { () -> [String: Value]? in
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

    /// An item that was running when the run died may or may not have changed the host. Its
    /// verify check decides; without one, the operator does. Nil: run it (again).
    func settleInFlight(_ work: ItemWork, host: Inventory.Host, scope: DictionaryScope) async -> HostResult? {
        let step = work.step
        if hasVerifyCheck(step) {
            if let verified = await alreadyDone(work, host: host, scope: scope) {
                await events.emit(.inFlightSettled(step: step.id, item: work.item, host: host.name,
                                                   detail: "its verify check shows the change happened: not sent again"))
                return .done(outputs: verified, alreadyDone: true, attempts: 0)
            }
            // The dead process's command may still land: wait, and ask again before sending it once more.
            let settle = settleTime(step)
            if settle > .zero {
                await events.emit(.inFlightSettled(step: step.id, item: work.item, host: host.name,
                                                   detail: "its verify check shows the change not done yet: waiting \(DurationText.format(settle)) for it to land"))
                try? await options.clock.sleep(for: settle)
                if let verified = await alreadyDone(work, host: host, scope: scope) {
                    await events.emit(.inFlightSettled(step: step.id, item: work.item, host: host.name,
                                                       detail: "its verify check shows the change landed late: not sent again"))
                    return .done(outputs: verified, alreadyDone: true, attempts: 0)
                }
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

    func hasVerifyCheck(_ step: Step) -> Bool {
        switch step.verify {
        case nil, .disabled?: return false
        case .builtIn?:
            guard case .action(let call) = step.kind else { return false }
            return ActionCatalog.action(named: call.name)?.verify != nil
        case .run?, .action?: return true
        }
    }

    /// How long a change of this step sent by a dead process may take to land.
    func settleTime(_ step: Step) -> Duration {
        if let settle = options.settle { return settle }
        if case .action(let call) = step.kind, let action = ActionCatalog.action(named: call.name) { return action.settle }
        return .seconds(10)
    }
}
