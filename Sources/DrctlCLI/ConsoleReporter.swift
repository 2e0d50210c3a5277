import DrctlCore
import Engine
import Foundation

/// Prints a run as it happens, for the operator at the terminal.
actor ConsoleReporter: RunObserver {
    private let verbose: Bool
    private let dryRun: Bool
    private let redactor: Redactor
    private let style: Style
    /// Commands already on screen, by step, item, host and text.
    private var announced: Set<String> = []

    init(verbose: Bool, dryRun: Bool, redactor: Redactor, style: Style = .plain) {
        self.verbose = verbose
        self.dryRun = dryRun
        self.redactor = redactor
        self.style = style
    }

    func record(_ event: RunEvent) async {
        switch event {
        case .commandSent(let step, let item, let host, let command, let mutates) where verbose || (mutates && !dryRun):
            // A wait sends its check again and again: once on screen is enough (-v shows each).
            let key = "\(step)\u{0}\(item.index)\u{0}\(host)\u{0}\(command)"
            guard verbose || announced.insert(key).inserted else { return }
            say("  → \(step)\(itemText(item)) on \(host): \(command)")
        case .waitChecked(let step, let item, let host, let check, let holds, let detail, let deadline) where !verbose:
            // One line when a wait starts repeating, one when it holds; the step's own line ends a wait that never does.
            let where_ = "\(step)\(itemText(item))\(host.map { " on \($0)" } ?? "")"
            if !holds, check == 1 {
                say("  ⧗ \(where_): not yet (\(firstLine(detail))); checking again until it holds, at most until \(Console.stamp(deadline))")
            } else if holds, check > 1 {
                say("  ⧗ \(where_): holds after \(check) checks")
            }
        case .commandFinished(_, _, let host, _, let result) where verbose:
            let text = (result.stdout + result.stderr).trimmingWhitespace()
            say("    ← \(host) exit \(result.exitStatus) in \(DurationText.format(result.duration))" + (text.isEmpty ? "" : ":\n" + indent(fold(text), by: 6)))
        case .retrying(let step, let item, let next, let delay, let reason):
            say("  ↻ \(step)\(itemText(item)): \(firstLine(reason)); attempt \(next) in \(DurationText.format(delay))")
        case .alreadyDone(let step, let item, let host):
            say("  = \(step)\(itemText(item)) on \(host): already done, nothing changed")
        case .inFlightSettled(let step, let item, let host, let detail):
            say("  ≟ \(step)\(itemText(item)) on \(host) was in flight when the run stopped: \(detail)")
        case .approvalRequested(let step, _, _, _) where !dryRun:
            say("  ? \(step): waiting for approval", mark: style.question)
        case .probed(let step, let item, let target, let state, let detail) where verbose:
            say("  ⌁ \(step)\(itemText(item)): \(target): \(state) (\(detail))")
        case .waitChecked(let step, let item, let host, let check, let holds, let detail, _) where verbose:
            say("  ⧗ \(step)\(itemText(item))\(host.map { " on \($0)" } ?? ""): check \(check) \(holds ? "holds" : "not yet: \(firstLine(detail))")")
        case .itemFinished(let step, let item, let outcome) where !dryRun:
            say(line(step, item, outcome), mark: mark(for: outcome.status))
        default:
            break
        }
    }

    private func line(_ step: String, _ item: ItemRef, _ outcome: ItemOutcome) -> String {
        let symbol: String
        switch outcome.status {
        case .succeeded: symbol = "✓"
        case .alreadyDone: symbol = "="
        case .failed, .denied: symbol = "✗"
        case .failedContinued: symbol = "!"
        case .skipped, .notStarted: symbol = "-"
        case .awaitingApproval: symbol = "⏸"
        case .planned: symbol = "·"
        }
        let hosts = outcome.hosts.isEmpty ? "" : " on \(outcome.hosts.joined(separator: ", "))"
        var text = "\(symbol) \(step)\(itemText(item))\(hosts) \(outcome.status.rawValue)"
        if outcome.started != nil { text += " (\(DurationText.format(outcome.duration)))" }
        if let reason = outcome.reason { text += ": \(reason)" }
        if let evidence = outcome.evidence, outcome.status == .failed { text += "\n" + indent(fold(evidence), by: 4) }
        return text
    }

    private func mark(for status: ItemOutcome.Status) -> (String) -> String {
        switch status {
        case .succeeded, .alreadyDone: return style.success
        case .failed, .denied: return style.failure
        case .failedContinued, .awaitingApproval: return style.warning
        default: return { $0 }
        }
    }

    private func itemText(_ item: ItemRef) -> String { item.label.isEmpty ? "" : " [\(item.label)]" }

    /// One log line, its leading symbol coloured by `mark` on a terminal.
    private func say(_ text: String, mark: (String) -> String = { $0 }) {
        let visible = VisibleText.escape(redactor.redact(text))
        let indent = visible.prefix { $0 == " " }
        let rest = visible.dropFirst(indent.count)
        let symbol = rest.prefix { $0 != " " }
        Console.shared.writeLogLine(indent + mark(String(symbol)) + rest.dropFirst(symbol.count))
    }
}

func firstLine(_ text: String) -> String {
    String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
}

/// Keeps the first and last lines of long output.
func fold(_ text: String, keep: Int = 8) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count > keep * 2 else { return text }
    return (lines.prefix(keep) + ["… \(lines.count - keep * 2) more lines …"] + lines.suffix(keep)).joined(separator: "\n")
}

func indent(_ text: String, by spaces: Int) -> String {
    let pad = String(repeating: " ", count: spaces)
    return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
}
