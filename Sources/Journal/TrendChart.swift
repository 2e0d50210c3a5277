import DrctlCore
import Foundation

/// The RTO each drill of a runbook achieved against one scenario, oldest first, as SVG bars:
/// passed, failed and stopped drills told apart by colour and by a mark under the bar, this
/// drill outlined, the target drawn as a line, both axes named, and a legend.
struct TrendChart {
    let points: [RunReport.TrendPoint]
    let current: String
    let target: TimeInterval?
    /// The most recent drills shown; older ones stay in the table.
    static let shown = 24

    enum Kind: String, CaseIterable {
        case passed, failed, stopped

        var colour: String { self == .passed ? "#66bb6a" : self == .failed ? "#e53935" : "#ffa726" }
        var mark: String { self == .passed ? "✓" : self == .failed ? "✗" : "■" }
        var meaning: String {
            switch self {
            case .passed: return "passed"
            case .failed: return "failed (checks or outcome)"
            case .stopped: return "stopped (interrupted, waiting, killed)"
            }
        }
    }

    static func kind(_ point: RunReport.TrendPoint) -> Kind {
        if let verdict = point.verdict { return verdict == "passed" ? .passed : verdict == "failed" ? .failed : .stopped }
        // Drills recorded before verdicts were journaled: the run's outcome decides.
        if ["interrupted", "awaiting-approval", "record-lost"].contains(point.outcome) || point.outcome.hasPrefix("unfinished") { return .stopped }
        return point.outcome == "succeeded" ? .passed : .failed
    }

    var svg: String {
        let shownPoints = Array(points.suffix(Self.shown))
        let width = 760.0, left = 58.0, right = 10.0, top = 16.0, bottom = 110.0
        let longest = max(shownPoints.map(\.rto).max() ?? 1, 0.001)
        // A far-off target would flatten the bars: then it is named, not drawn.
        let drawTarget = target.map { $0 <= longest * 3 } ?? false
        let ceiling = max(longest, drawTarget ? target! : 0) * 1.1
        let slot = (width - left - right) / Double(max(shownPoints.count, 1))
        let barWidth = min(40, slot - 6)
        func y(_ value: TimeInterval) -> Double { bottom - value / ceiling * (bottom - top) }
        func number(_ value: Double) -> String { value.fixed(1) }
        var parts = [#"<svg xmlns="http://www.w3.org/2000/svg" width="760" height="175" viewBox="0 0 760 175" role="img" aria-label="RTO achieved by each drill of this runbook against this scenario"><style>text{font:11px sans-serif;fill:#444}</style>"#]
        // The y axis: RTO achieved, with zero, half and the top.
        for fraction in [0.0, 0.5, 1.0] {
            let value = ceiling / 1.1 * fraction
            parts.append(##"<line x1="\##(number(left))" y1="\##(number(y(value)))" x2="\##(number(width - right))" y2="\##(number(y(value)))" stroke="#eee"/><text x="\##(number(left - 4))" y="\##(number(y(value) + 4))" text-anchor="end">\##(escape(Self.seconds(value)))</text>"##)
        }
        parts.append(##"<text transform="translate(12 \##(number((top + bottom) / 2))) rotate(-90)" text-anchor="middle">RTO achieved</text>"##)
        for (index, point) in shownPoints.enumerated() {
            let kind = Self.kind(point)
            let x = left + Double(index) * slot + 3
            let height = max(1, bottom - y(point.rto))
            let outline = point.run == current ? ##" stroke="#0d47a1" stroke-width="2""## : ""
            parts.append(##"<g><title>\##(escape("\(point.run): \(Self.seconds(point.rto)), \(point.outcome), \(kind.meaning)\(point.run == current ? " (this drill)" : "")"))</title><rect x="\##(number(x))" y="\##(number(bottom - height))" width="\##(number(barWidth))" height="\##(number(height))" fill="\##(kind.colour)"\##(outline)/><text x="\##(number(x + barWidth / 2))" y="\##(number(bottom + 13))" text-anchor="middle">\##(kind.mark)</text></g>"##)
        }
        parts.append(##"<line x1="\##(number(left))" y1="\##(number(bottom))" x2="\##(number(width - right))" y2="\##(number(bottom))" stroke="#999"/>"##)
        parts.append(##"<text x="\##(number((left + width) / 2))" y="\##(number(bottom + 30))" text-anchor="middle">drills against this scenario, oldest first\##(points.count > Self.shown ? " (the last \(Self.shown) of \(points.count))" : "")</text>"##)
        if let target {
            if drawTarget {
                parts.append(##"<line x1="\##(number(left))" y1="\##(number(y(target)))" x2="\##(number(width - right))" y2="\##(number(y(target)))" stroke="#c62828" stroke-dasharray="4 3"/><text x="\##(number(width - right))" y="\##(number(y(target) - 3))" text-anchor="end" style="fill:#c62828">\##(escape("RTO target " + Self.seconds(target)))</text>"##)
            } else {
                parts.append(##"<text x="\##(number(width - right))" y="12" text-anchor="end" style="fill:#c62828">\##(escape("RTO target " + Self.seconds(target) + ": far above these bars"))</text>"##)
            }
        }
        // The legend, under the axis label.
        var legendX = left
        for kind in Kind.allCases {
            parts.append(##"<rect x="\##(number(legendX))" y="\##(number(bottom + 42))" width="10" height="10" fill="\##(kind.colour)"/><text x="\##(number(legendX + 14))" y="\##(number(bottom + 51))">\##(kind.mark) \##(escape(kind.meaning))</text>"##)
            legendX += 34 + Double(kind.meaning.count + 2) * 6
        }
        parts.append(##"<rect x="\##(number(legendX))" y="\##(number(bottom + 42))" width="10" height="10" fill="none" stroke="#0d47a1" stroke-width="2"/><text x="\##(number(legendX + 14))" y="\##(number(bottom + 51))">this drill</text>"##)
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    static func seconds(_ interval: TimeInterval) -> String { RunReport.seconds(interval) }
}
