import DrctlCore
import Foundation

/// The run's timeline as an SVG Gantt chart: one lane per host (and one for drctl's own
/// approvals and probes), one bar per step item, coloured by how it ended.
struct GanttChart {
    let spans: [RunReport.Span]
    let gaps: [(start: TimeInterval, end: TimeInterval)]
    let duration: TimeInterval
    /// The runbook's RTO target, drawn as a line when it falls within the run, named otherwise.
    var rto: TimeInterval?

    static let colours = ["succeeded": "#2e7d32", "already-done": "#81c784", "failed": "#c62828", "failed-continued": "#ef6c00",
                          "denied": "#6a1b9a", "interrupted": "#9e9e9e"]

    var svg: String {
        let lanes = orderedLanes
        let labelWidth = 110.0, chartWidth = 760.0, rowHeight = 17.0, barHeight = 13.0, top = 24.0
        let scale = chartWidth / max(duration, 0.001)
        let rowsPerLane = lanes.map { rows(in: $0, scale: scale).count }
        let height = top + Double(rowsPerLane.reduce(0, +)) * rowHeight + 42
        var parts: [String] = []
        parts.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(labelWidth + chartWidth + 20))" height="\##(Int(height))" viewBox="0 0 \##(Int(labelWidth + chartWidth + 20)) \##(Int(height))" role="img" aria-label="Timeline of the run: steps per host">"##)
        parts.append(##"<style>text{font:11px sans-serif;fill:#222}.tick{fill:#666}</style>"##)
        for tick in ticks {
            let x = labelWidth + tick * scale
            parts.append(##"<line x1="\##(format(x))" y1="\##(format(top - 4))" x2="\##(format(x))" y2="\##(format(height - 22))" stroke="#ddd"/>"##)
            parts.append(##"<text class="tick" x="\##(format(x))" y="\##(format(height - 22))" text-anchor="middle">\##(escape(DurationText.format(.milliseconds(Int64(tick * 1000)))))</text>"##)
        }
        parts.append(##"<text class="tick" x="\##(format(labelWidth + chartWidth / 2))" y="\##(format(height - 6))" text-anchor="middle">time since the run started</text>"##)
        if let rto {
            if rto <= duration {
                let x = labelWidth + rto * scale
                parts.append(##"<line x1="\##(format(x))" y1="\##(format(top - 12))" x2="\##(format(x))" y2="\##(format(height - 34))" stroke="#c62828" stroke-dasharray="4 3"/>"##)
                parts.append(##"<text x="\##(format(x + 3))" y="\##(format(top - 14))" style="fill:#c62828">\##(escape("RTO target " + DurationText.format(.milliseconds(Int64(rto * 1000)))))</text>"##)
            } else {
                parts.append(##"<text x="\##(format(labelWidth + chartWidth))" y="\##(format(top - 14))" text-anchor="end" style="fill:#c62828">\##(escape("RTO target " + DurationText.format(.milliseconds(Int64(rto * 1000))) + ": beyond the right edge"))</text>"##)
            }
        }
        for gap in gaps where gap.end > gap.start {
            parts.append(##"<rect x="\##(format(labelWidth + gap.start * scale))" y="\##(format(top - 4))" width="\##(format(max(1, (gap.end - gap.start) * scale)))" height="\##(format(height - top - 18))" fill="#fff3e0"><title>not running: killed, waiting to be resumed</title></rect>"##)
        }
        var y = top
        for lane in lanes {
            let laneRows = rows(in: lane, scale: scale)
            parts.append(##"<text x="4" y="\##(format(y + barHeight - 2))">\##(escape(lane))</text>"##)
            for row in laneRows {
                for span in row {
                    let x = labelWidth + span.start * scale
                    let width = max(2, (span.end - span.start) * scale)
                    let label = span.step + (span.item.isEmpty ? "" : " [\(span.item)]")
                    let seconds = (span.end - span.start).fixed(3)
                    // Every bar is labelled: inside when it fits, cut with "…" when it nearly does, else
                    // just after the bar; the tooltip gives the whole label.
                    parts.append(##"<g><title>\##(escape("\(label) on \(lane): \(span.status), \(seconds)s"))</title>"##)
                    parts.append(##"<rect x="\##(format(x))" y="\##(format(y))" width="\##(format(width))" height="\##(format(barHeight))" rx="2" fill="\##(Self.colours[span.status] ?? "#1565c0")"/>"##)
                    let fits = Int((width - 6) / 6)
                    if fits >= 4 {
                        parts.append(##"<text x="\##(format(x + 3))" y="\##(format(y + barHeight - 3))" style="fill:#fff">\##(escape(Self.cut(label, to: fits)))</text>"##)
                    } else {
                        let outside = Self.cut(label, to: 24)
                        // At the right edge the label goes before the bar instead of off the chart.
                        let after = x + width + 2 + Double(outside.count) * 6 <= labelWidth + chartWidth + 20
                        parts.append(##"<text x="\##(format(after ? x + width + 2 : x - 2))" y="\##(format(y + barHeight - 3))"\##(after ? "" : #" text-anchor="end""#)>\##(escape(outside))</text>"##)
                    }
                    parts.append("</g>")
                }
                y += rowHeight
            }
            parts.append(##"<line x1="0" y1="\##(format(y - 4))" x2="\##(format(labelWidth + chartWidth))" y2="\##(format(y - 4))" stroke="#eee"/>"##)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// Hosts in order of first activity, drctl's own lane first.
    private var orderedLanes: [String] {
        var seen: [String] = []
        for span in spans.sorted(by: { $0.start < $1.start }) where !seen.contains(span.lane) { seen.append(span.lane) }
        return seen.sorted { ($0 == "drctl" ? 0 : 1) < ($1 == "drctl" ? 0 : 1) }
    }

    /// A lane's bars packed into rows so that overlapping items (parallel work) do not cover each
    /// other, nor the label of a bar too short to hold it (drawn just after the bar).
    private func rows(in lane: String, scale: Double) -> [[RunReport.Span]] {
        var rows: [[RunReport.Span]] = []
        var ends: [TimeInterval] = []
        for span in spans.filter({ $0.lane == lane }).sorted(by: { $0.start < $1.start }) {
            let width = (span.end - span.start) * scale
            let label = Self.cut(span.step + (span.item.isEmpty ? "" : " [\(span.item)]"), to: 24)
            let inside = Int((width - 6) / 6) >= 4
            let reserved = inside ? span.end : span.start + (width + 4 + Double(label.count) * 6) / scale
            if let index = ends.firstIndex(where: { $0 <= span.start }) {
                rows[index].append(span)
                ends[index] = reserved
            } else {
                rows.append([span])
                ends.append(reserved)
            }
        }
        return rows
    }

    /// About eight round tick marks over the run.
    private var ticks: [TimeInterval] {
        let steps: [TimeInterval] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
        let step = steps.first { duration / $0 <= 8 } ?? 14400
        return stride(from: 0, through: duration, by: step).map { $0 }
    }

    private func format(_ value: Double) -> String { value.fixed(1) }

    /// The label, cut to `length` characters with "…" when longer.
    static func cut(_ label: String, to length: Int) -> String {
        label.count <= length ? label : String(label.prefix(max(1, length - 1))) + "…"
    }
}

/// Escapes text for HTML and SVG, control characters shown as visible escapes.
func escape(_ text: String) -> String {
    var escaped = ""
    for character in VisibleText.escape(text) {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.append(character)
        }
    }
    return escaped
}
