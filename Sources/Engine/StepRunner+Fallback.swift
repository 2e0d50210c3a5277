import DrctlCore
import Foundation
import RunbookFormat

/// `fallback: true`: one host of several, tried in order (a VM registered on the first survivor
/// that can see its datastore).
extension StepRunner {
    /// `fallback: true`: the hosts in order, until one succeeds. A failure that may have changed
    /// the host (a timeout, a dropped session) stops there: trying elsewhere could do it twice.
    func runOnFirstThatSucceeds(_ work: ItemWork, hosts: [Inventory.Host]) async -> ItemOutcome {
        var tried: [String] = []
        var evidence: [String] = []
        var attempts = 0
        for host in hosts {
            let result = await runOnHost(work, host: host)
            switch result {
            case .done(var outputs, let alreadyDone, let hostAttempts):
                outputs["host"] = .string(host.name)
                outputs["tried"] = .list((tried + ["\(host.name): succeeded"]).map(Value.string))
                var outcome = combine([.done(outputs: outputs, alreadyDone: alreadyDone, attempts: hostAttempts)], hosts: [host.name], tolerant: false)
                if !tried.isEmpty { outcome.reason = "on \(host.name) after " + tried.joined(separator: "; ") }
                return outcome
            case .failed(let reason, let shown, let hostAttempts, let continued, let uncertain, _):
                tried.append("\(host.name): \(reason)")
                if let shown { evidence.append(shown) }
                attempts += hostAttempts
                if uncertain || stop.isRequested {
                    var outcome = combine([result], hosts: [host.name], tolerant: false)
                    outcome.reason = "tried " + tried.joined(separator: "; ") + (uncertain ? " (not tried elsewhere: it may have taken effect on \(host.name))" : "")
                    return outcome
                }
                if host.name == hosts.last?.name {
                    var outcome = combine([result], hosts: hosts.map(\.name), tolerant: false)
                    outcome.status = continued ? .failedContinued : .failed
                    outcome.attempts = attempts
                    outcome.reason = "no eligible host succeeded; tried " + tried.joined(separator: "; ")
                    outcome.evidence = evidence.isEmpty ? nil : evidence.joined(separator: "\n")
                    return outcome
                }
            case .planned(var outputs):
                // A dry-run plans it on the first host: later steps that go where it landed
                // (`{{ steps.register.host }}`) are planned there too, by name.
                outputs["host"] = .string(host.name)
                return combine([.planned(outputs: outputs)], hosts: [host.name], tolerant: false)
            default:
                return combine([result], hosts: [host.name], tolerant: false)
            }
        }
        return failure("on: names no host")
    }
}
