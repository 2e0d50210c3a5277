import DrctlCore
import Foundation

/// The text of the live status area (on a terminal) and of heartbeat lines (through a pipe), from
/// a snapshot of the run's progress and the time now: pure, so tests give both.
enum StatusLines {
    /// At most this many commands per host, and hosts, are listed; the rest are counted.
    static let commandsPerHost = 3
    static let hostsShown = 6

    static func area(_ progress: RunProgress.Snapshot, now: Date, columns: Int, style: Style = .plain) -> [String] {
        var lines = [style.dim("── ") + headline(progress, now: now, style: style)]
        for (index, entry) in progress.running.enumerated() where index < hostsShown {
            let host = VisibleText.escape(entry.host)
            let hostColumn = host.padding(toLength: max(host.count, 10), withPad: " ", startingAt: 0)
            for (position, command) in entry.commands.prefix(commandsPerHost).enumerated() {
                let lead = position == 0 ? hostColumn : String(repeating: " ", count: hostColumn.count)
                lines.append("   \(lead)  \(elapsed(since: command.since, now: now).leftPadded(6))  \(where_(command.step, command.item)): \(command.shown)")
            }
            if entry.commands.count > commandsPerHost {
                lines.append("   \(String(repeating: " ", count: hostColumn.count))  … \(entry.commands.count - commandsPerHost) more")
            }
        }
        if progress.running.count > hostsShown {
            let rest = progress.running.dropFirst(hostsShown)
            lines.append("   … \(rest.count) more hosts running \(rest.map(\.commands.count).reduce(0, +)) commands")
        }
        for wait in progress.waits {
            lines.append(style.warning("   ⧗ ") + waitText(wait, now: now))
        }
        for step in progress.approvals {
            lines.append(style.question("   ? ") + "\(step) waits for approval")
        }
        return lines.map { fit($0, columns: columns - 1) }
    }

    /// One line for a log: where the run stands, what runs longest, what it waits for.
    static func heartbeat(_ progress: RunProgress.Snapshot, now: Date) -> String {
        var parts = ["… " + headline(progress, now: now, style: .plain)]
        let commands = progress.running.flatMap { entry in entry.commands.map { (entry.host, $0) } }
        if let (host, longest) = commands.min(by: { $0.1.since < $1.1.since }) {
            parts.append("running \(commands.count) command\(commands.count == 1 ? "" : "s") on \(progress.running.count) host\(progress.running.count == 1 ? "" : "s")"
              + " (longest: \(where_(longest.step, longest.item)) on \(VisibleText.escape(host)), \(elapsed(since: longest.since, now: now)))")
        }
        for wait in progress.waits { parts.append("waiting: " + waitText(wait, now: now)) }
        for step in progress.approvals { parts.append("\(step) waits for approval") }
        return parts.joined(separator: " · ")
    }

    private static func headline(_ progress: RunProgress.Snapshot, now: Date, style: Style) -> String {
        let runFor = Duration.milliseconds(Int64(max(0, now.timeIntervalSince(progress.started)) * 1000))
        var text = "\(seconds(runFor)) elapsed"
        if let rto = progress.rto {
            let left = rto - runFor
            text += left >= .zero ? " · RTO \(seconds(rto)): \(seconds(left)) left"
                                  : " · " + style.failure("RTO \(seconds(rto)) passed \(seconds(.zero - left)) ago")
        }
        text += " · steps \(progress.stepsDone)/\(progress.stepsTotal) · items \(progress.itemsDone)/\(progress.itemsKnown)"
        if progress.failed > 0 { text += " · " + style.failure("\(progress.failed) failed") }
        return text
    }

    private static func waitText(_ wait: RunProgress.Waiting, now: Date) -> String {
        let left = max(0, wait.deadline.timeIntervalSince(now))
        let last = firstLine(wait.lastResult).replacingOccurrences(of: "the last check gave ", with: "")
        return "\(where_(wait.step, wait.item))\(wait.host.map { " on \(VisibleText.escape($0))" } ?? ""): check \(wait.checks) at \(clock(wait.lastCheck)) not yet;"
            + " deadline \(clock(wait.deadline)) (\(seconds(.milliseconds(Int64(left * 1000)))) left)" + (last.isEmpty ? "" : "; last: \(last)")
    }

    /// Step ids and item labels (VM names) come from runbooks and hosts: made visible, never obeyed.
    private static func where_(_ step: String, _ item: String) -> String { VisibleText.escape(item.isEmpty ? step : "\(step) [\(item)]") }

    private static func elapsed(since: Date, now: Date) -> String {
        seconds(.milliseconds(Int64(max(0, now.timeIntervalSince(since)) * 1000)))
    }

    /// `14:03:22Z`: UTC, as transcripts and timestamps show it.
    static func clock(_ date: Date) -> String {
        String(Timestamp.timeOfDay(date).prefix(8)) + "Z"
    }

    /// Whole seconds: a status that ticks once a second, not in tenths.
    private static func seconds(_ duration: Duration) -> String {
        let whole = max(0, duration.milliseconds / 1000)
        if whole == 0 { return "0s" }
        if whole >= 60, whole % 60 == 0 { return whole % 3600 == 0 ? "\(whole / 3600)h" : "\(whole / 60)m" }
        return DurationText.format(.seconds(whole))
    }

    /// Columns a line takes on screen: colour codes take none.
    static func visibleWidth(_ line: String) -> Int {
        var visible = 0
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if inEscape { if character.isLetter { inEscape = false } } else { visible += 1 }
        }
        return visible
    }

    /// Cut to the terminal's width, so no line wraps (the area is erased by counting its rows).
    static func fit(_ line: String, columns: Int) -> String {
        guard visibleWidth(line) > columns else { return line }
        var result = ""
        var visible = 0
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if inEscape {
                result.append(character)
                if character.isLetter { inEscape = false }
                continue
            }
            guard visible < columns - 1 else { break }
            visible += 1
            result.append(character)
        }
        return result + "…" + (result.contains("\u{1B}") ? "\u{1B}[0m" : "")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
