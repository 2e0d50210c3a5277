import DrctlCore
import Engine
import Foundation
import RunbookFormat

/// What a run in virtual time predicts: when each VM is back (powered on, and its guest running
/// VMware Tools when the runbook waits for them), when each priority group is done, and the chain
/// of steps that set the total (the critical path).
struct RecoveryPrediction {
    struct VMBack {
        var name: String
        var priority: Int?
        var host: String?
        /// Since the run started; nil when the VM did not come back.
        var backAt: Duration?
        /// Its guest did not start VMware Tools within the wait: powered on, not proven usable.
        var guestNotReady: String?
        /// Why it is not back (`handed off`, a failure).
        var notBack: String?
    }

    struct Group {
        var priority: Int?
        var vms: [VMBack]
        /// When the group's last VM was back; nil when none of it came back.
        var doneAt: Duration? { vms.compactMap(\.backAt).max() }
        var allBack: Bool { vms.allSatisfy { $0.backAt != nil } }
    }

    /// One link of the critical path: an item and how long it ran.
    struct Link: Equatable {
        var step: String
        var item: String
        var startedAt: Duration
        var endedAt: Duration
    }

    var vms: [VMBack]
    var groups: [Group]
    var criticalPath: [Link]
    var total: Duration
    var rto: Duration?
    var rtoMet: Bool?

    init(runbook: Runbook, summary: RunSummary, inventory: Inventory) {
        let priorities = Dictionary(inventory.vms.map { ($0.name, $0.priority) }, uniquingKeysWith: { first, _ in first })
        let powerOnSteps = Set(runbook.steps.filter { step in
            if case .action(let call) = step.kind { return call.name == "vm.power.on" }
            return false
        }.map(\.id))
        var found: [String: VMBack] = [:]
        var order: [String] = []
        for step in summary.steps where powerOnSteps.contains(step.id) {
            for (item, outcome) in step.items where !item.label.isEmpty && outcome.status != .skipped {
                if found[item.label] == nil { order.append(item.label) }
                var back = VMBack(name: item.label, priority: priorities[item.label], host: outcome.hosts.first)
                if outcome.isSuccess, let end = Self.offset(of: outcome, in: summary, end: true) {
                    back.backAt = end
                    if outcome.outputs["guest_ready"] == .bool(false) { back.guestNotReady = outcome.outputs["tools"]?.text }
                } else {
                    back.notBack = outcome.reason ?? outcome.status.rawValue
                }
                found[item.label] = back
            }
        }
        // What the goal names but no power-on brought back: handed off, or not recovered.
        for item in summary.goal?.items ?? [] where found[item.label] == nil && priorities[item.label] != nil && !item.holds {
            order.append(item.label)
            found[item.label] = VMBack(name: item.label, priority: priorities[item.label], host: nil, backAt: nil,
                                       notBack: item.handedOff ? "handed off" : "not recovered")
        }
        vms = order.map { found[$0]! }
        let byPriority = Dictionary(grouping: vms, by: \.priority)
        groups = byPriority.keys.sorted { ($0 ?? Int.max) < ($1 ?? Int.max) }.map { Group(priority: $0, vms: byPriority[$0]!) }
        total = summary.duration
        rto = summary.rto
        rtoMet = summary.rtoMet
        criticalPath = Self.criticalPath(runbook: runbook, summary: summary)
    }

    /// Start or end of an item, measured from the run's start.
    static func offset(of outcome: ItemOutcome, in summary: RunSummary, end: Bool) -> Duration? {
        guard let started = outcome.started else { return nil }
        let start = Duration.milliseconds(Int64((started.timeIntervalSince(summary.started) * 1000).rounded()))
        return end ? start + outcome.duration : start
    }

    /// From the item that finished last, back through what each link waited for: the latest-
    /// finishing item, among the steps it needs or comes after (or its own step, for an earlier
    /// priority group), that ended by the time it started.
    static func criticalPath(runbook: Runbook, summary: RunSummary) -> [Link] {
        var links: [Link] = []
        for step in summary.steps {
            for (item, outcome) in step.items where outcome.status != .skipped && outcome.status != .planned {
                guard let start = offset(of: outcome, in: summary, end: false) else { continue }
                links.append(Link(step: step.id, item: item.label, startedAt: start, endedAt: start + outcome.duration))
            }
        }
        let steps = Dictionary(runbook.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        guard var current = links.max(by: { $0.endedAt < $1.endedAt }) else { return [] }
        var path = [current]
        let slack = Duration.milliseconds(1)
        while true {
            let before = Set((steps[current.step]?.needs ?? []) + (steps[current.step]?.after ?? []) + [current.step])
            let candidates = links.filter { before.contains($0.step) && $0.endedAt <= current.startedAt + slack && $0 != current && $0.endedAt > .zero }
            guard let previous = candidates.max(by: { ($0.endedAt, $0.startedAt) < ($1.endedAt, $1.startedAt) }),
                  !path.contains(previous) else { break }
            path.append(previous)
            current = previous
        }
        return path.reversed()
    }

    /// Lines for the drill report and `drctl whatif`.
    var lines: [String] {
        var lines: [String] = []
        for group in groups {
            let name = group.priority.map { "P\($0)" } ?? "no priority"
            let back = group.vms.filter { $0.backAt != nil }.map(\.name)
            let missing = group.vms.filter { $0.backAt == nil }.map { "\($0.name) (\($0.notBack ?? "not recovered"))" }
            var line = "  \(name): " + (group.doneAt.map { "back at \(DurationText.format($0))" } ?? "not back")
                + " (\(back.count) of \(group.vms.count) VMs)"
            if !missing.isEmpty { line += "; not back: " + missing.joined(separator: ", ") }
            lines.append(line)
            for vm in group.vms where vm.guestNotReady != nil { lines.append("      \(vm.name): powered on, but VMware Tools \(vm.guestNotReady!)") }
        }
        if groups.isEmpty { lines.append("  (no VM was powered on)") }
        let verdict = rto.map { target in
            "against the RTO of \(DurationText.format(target)): " + (rtoMet == true ? "met" : total <= target ? "not met (only a run that succeeded meets an RTO)" : "MISSED by \(DurationText.format(total - target))")
        } ?? "(the runbook sets no RTO)"
        lines.append("  Whole recovery: \(DurationText.format(total)) \(verdict)")
        if !criticalPath.isEmpty {
            lines.append("  Critical path (the chain of steps that set the total):")
            for link in criticalPath {
                let what = link.item.isEmpty ? link.step : "\(link.step) [\(link.item)]"
                lines.append("    \(DurationText.format(link.startedAt).padding(toLength: 7, withPad: " ", startingAt: 0)) → \(DurationText.format(link.endedAt).padding(toLength: 7, withPad: " ", startingAt: 0)) \(what)")
            }
        }
        return lines
    }
}
