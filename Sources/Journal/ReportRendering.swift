import DrctlCore
import Foundation

/// A run report as Markdown (for tickets and reviews) or as one self-contained HTML page with
/// an inline SVG timeline (for auditors); both say the same things in the same order.
extension RunReport {
    public var markdown: String {
        var lines = ["# Run report: \(runbook) (\(run))", ""]
        lines += summaryRows.map { "- **\($0.0)**: \($0.1)" }
        lines += ["", "## Parameters", ""]
        lines += params.isEmpty ? ["(none)"] : ["| name | value |", "|---|---|"] + params.map { "| \(cell($0.0)) | \(cell($0.1)) |" }
        lines += ["", "## Approvals", ""]
        lines += approvals.isEmpty ? ["(none asked)"] : ["| step | decision | by | when | why | prompt |", "|---|---|---|---|---|---|"]
            + approvals.map { "| \(cell($0.step)) | \($0.decision) | \(cell($0.by)) | \(Self.clock($0.at)) | \(cell($0.reason)) | \(cell($0.prompt)) |" }
        for approval in approvals where !approval.shown.isEmpty || !approval.unlocks.isEmpty {
            lines += ["", "What \(cell(approval.by)) saw before deciding `\(cell(approval.step))`:", ""]
            lines += approval.shown.map { "- \(cell($0))" }
            if !approval.unlocks.isEmpty { lines += ["", "```"] + approval.unlocks.map { VisibleText.escape($0).replacingOccurrences(of: "```", with: "`\u{200B}``") } + ["```"] }
        }
        lines += ["", "## Time to recovery", ""]
        lines.append(rtoSentence)
        if !recoveries.isEmpty {
            lines += ["", "| VM | host | powered on after |", "|---|---|---|"]
            lines += recoveries.map { "| \(cell($0.vm)) | \(cell($0.host)) | \(Self.seconds($0.after)) |" }
        }
        lines += ["", "## Timeline", ""]
        lines += gaps.map { "Not running from +\(Self.seconds($0.start)) to +\(Self.seconds($0.end)): the run was stopped or killed, then resumed." }
        if !gaps.isEmpty { lines.append("") }
        lines += ["| host | step | item | start | end | status |", "|---|---|---|---|---|---|"]
        lines += spans.sorted { $0.start < $1.start }.map {
            "| \(cell($0.lane)) | \(cell($0.step)) | \(cell($0.item)) | +\(Self.seconds($0.start)) | +\(Self.seconds($0.end)) | \($0.status) |"
        }
        lines += ["", "## Failures", ""]
        if failures.isEmpty { lines.append("(none)") }
        for failure in failures {
            lines.append("### \(failure.step)\(failure.item.isEmpty ? "" : " [\(failure.item)]")\(failure.hosts.isEmpty ? "" : " on \(failure.hosts.joined(separator: ", "))"): \(failure.status)")
            lines += ["", failure.reason, ""]
            if !failure.output.isEmpty { lines += ["```", failure.output.trimmingCharacters(in: .newlines), "```", ""] }
        }
        if !trend.isEmpty {
            lines += ["", "## RTO trend (drills of \(runbook))", "", "| drill | started | RTO achieved | outcome |", "|---|---|---|---|"]
            lines += trend.map { "| \($0.run == run ? "**\($0.run)** (this one)" : $0.run) | \(Self.clock($0.started)) | \(Self.seconds($0.rto)) | \($0.outcome) |" }
        }
        lines += ["", "## Journal integrity", "", chainSentence, ""]
        // Names and outputs came from hosts and input files: their control characters are shown, not obeyed.
        return VisibleText.escape(lines.joined(separator: "\n"))
    }

    public var html: String {
        var body: [String] = []
        body.append("<h1>Run report: \(escape(runbook)) <small>\(escape(run))</small></h1>")
        body.append("<p class=\"verdict \(outcomeClass)\">\(escape(outcome))</p>")
        body.append(table(["", ""], summaryRows.map { [$0.0, $0.1] }, header: false))
        body.append("<h2>Parameters</h2>" + (params.isEmpty ? "<p>(none)</p>" : table(["name", "value"], params.map { [$0.0, $0.1] })))
        body.append("<h2>Approvals</h2>" + (approvals.isEmpty ? "<p>(none asked)</p>" : table(["step", "decision", "by", "when", "why", "prompt"],
            approvals.map { [$0.step, $0.decision, $0.by, Self.clock($0.at), $0.reason, $0.prompt] })))
        for approval in approvals where !approval.shown.isEmpty || !approval.unlocks.isEmpty {
            body.append("<details><summary>What \(escape(approval.by)) saw before deciding \(escape(approval.step))</summary>"
                        + (approval.shown.isEmpty ? "" : "<ul>" + approval.shown.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
                        + (approval.unlocks.isEmpty ? "" : "<pre>" + approval.unlocks.map(escape).joined(separator: "\n") + "</pre>") + "</details>")
        }
        body.append("<h2>Time to recovery</h2><p>\(escape(rtoSentence))</p>")
        if !recoveries.isEmpty { body.append(table(["VM", "host", "powered on after"], recoveries.map { [$0.vm, $0.host, Self.seconds($0.after)] })) }
        body.append("<h2>Timeline</h2>")
        body.append("<figure>" + GanttChart(spans: spans, gaps: gaps, duration: duration, rto: rtoTarget).svg + "<figcaption>Steps per host; hover a bar for details. "
                    + GanttChart.colours.keys.sorted().map { "<span class=\"key\" style=\"background:\(GanttChart.colours[$0]!)\"></span>\($0)" }.joined(separator: " ")
                    + "</figcaption></figure>")
        body.append("<h2>Failures</h2>")
        if failures.isEmpty { body.append("<p>(none)</p>") }
        for failure in failures {
            body.append("<h3>\(escape(failure.step))\(failure.item.isEmpty ? "" : " [\(escape(failure.item))]")\(failure.hosts.isEmpty ? "" : " on \(escape(failure.hosts.joined(separator: ", ")))"): \(escape(failure.status))</h3>")
            body.append("<p>\(escape(failure.reason))</p>")
            if !failure.output.isEmpty { body.append("<pre>\(escape(failure.output.trimmingCharacters(in: .newlines)))</pre>") }
        }
        if !trend.isEmpty {
            body.append("<h2>RTO trend (drills of \(escape(runbook)))</h2>")
            body.append(trendChart)
            body.append(table(["drill", "started", "RTO achieved", "outcome"], trend.map { [$0.run + ($0.run == run ? " (this one)" : ""), Self.clock($0.started), Self.seconds($0.rto), $0.outcome] }))
        }
        body.append("<h2>Journal integrity</h2><p class=\"\(chain.broken == nil ? "ok" : "bad")\">\(escape(chainSentence))</p>")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape("drctl report: \(runbook) \(run)"))</title>
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:960px;color:#222}
        h1 small{color:#666;font-weight:normal;font-size:60%}
        table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
        th{background:#f5f5f5}pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}
        .verdict{font-size:18px;font-weight:bold}.good,.ok{color:#2e7d32}.bad{color:#c62828}.pending{color:#ef6c00}
        .key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}figure{margin:0}figcaption{font-size:12px;color:#555}
        </style></head>
        <body>
        \(body.joined(separator: "\n"))
        </body></html>
        """
    }

    private var summaryRows: [(String, String)] {
        var rows: [(String, String)] = [("Outcome", outcome)]
        if let goal { rows.append(("Goal", goal)) }
        rows += [("Runbook", "\(runbook) (\(runbookFile), sha256 \(runbookSHA256.prefix(16))…)")]
        if let scenario { rows.append(("Drill", "against the simulated fleet of \(scenario)")) }
        if dryRun { rows.append(("Dry run", "yes: nothing was changed")) }
        rows.append(("Started", Self.clock(started)))
        rows.append(("Duration", Self.seconds(duration)))
        for (index, attempt) in attempts.enumerated() {
            rows.append((index == 0 ? "Started by" : "Resumed by", "\(attempt.operatorName) on \(attempt.machine) at \(Self.clock(attempt.started))"
                         + " — \(attempt.outcome ?? "killed before it ended")"))
        }
        if !hosts.isEmpty { rows.append(("Hosts", hosts.joined(separator: "; "))) }
        return rows
    }

    private var rtoSentence: String {
        let achieved = "RTO achieved: \(Self.seconds(rtoAchieved))" + (recoveries.isEmpty ? " (the whole run; no VM was powered on)" : " (until the last VM was powered on)")
        guard let target = rtoTarget else { return achieved + "; the runbook sets no target." }
        if rtoMet == true { return achieved + " against a target of \(Self.seconds(target)): met." }
        let why = outcome == "succeeded" ? "MISSED." : "NOT MET: the run's goal does not hold (\(outcome))."
        return achieved + " against a target of \(Self.seconds(target)): " + why
    }

    private var chainSentence: String {
        if let broken = chain.broken { return "BROKEN at journal line \(broken.line) after \(chain.intact) intact events: \(broken.reason). This record cannot be trusted." }
        return "Hash chain intact over \(chain.intact) events" + (chain.tornLastLine ? "; the last line was cut off by a crash." : ".")
            + " Head: sha256 \(chain.head). Compare it with the head stored when the run ended (the incident ticket): "
            + "`drctl transcript verify \(run) --expect HASH`. Without such an anchor the chain shows only that its lines agree with each other."
    }

    private var outcomeClass: String {
        outcome == "succeeded" ? "good" : outcome.hasPrefix("unfinished") || outcome.hasPrefix("stopped") || outcome == "interrupted" ? "pending" : "bad"
    }

    /// The RTO of each drill of this runbook as bars, the target as a line.
    private var trendChart: String {
        let width = 760.0, height = 160.0, left = 50.0, bottom = 140.0
        let longest = max(trend.map(\.rto).max() ?? 1, 0.001)
        // A far-off target would flatten the bars: then it is named, not drawn.
        let drawTarget = rtoTarget.map { $0 <= longest * 3 } ?? false
        let top = max(longest, drawTarget ? rtoTarget! : 0) * 1.1
        let barWidth = min(40, (width - left) / Double(max(trend.count, 1)) - 6)
        var parts = [#"<svg xmlns="http://www.w3.org/2000/svg" width="760" height="170" role="img" aria-label="RTO of each drill of this runbook"><style>text{font:11px sans-serif;fill:#444}</style>"#]
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        for (index, point) in trend.enumerated() {
            let barHeight = point.rto / top * (bottom - 10)
            let x = left + Double(index) * (barWidth + 6)
            let fill = point.run == run ? "#1565c0" : point.outcome == "succeeded" ? "#90caf9" : "#ef9a9a"
            parts.append(##"<rect x="\##(number(x))" y="\##(number(bottom - barHeight))" width="\##(number(barWidth))" height="\##(number(barHeight))" fill="\##(fill)"><title>\##(escape("\(point.run): \(Self.seconds(point.rto)), \(point.outcome)"))</title></rect>"##)
        }
        if let target = rtoTarget, !drawTarget {
            parts.append(##"<text x="\##(number(width - 200))" y="12">target \##(escape(Self.seconds(target))) (far above)</text>"##)
        }
        if let target = rtoTarget, drawTarget {
            let y = bottom - target / top * (bottom - 10)
            parts.append(##"<line x1="\##(number(left))" y1="\##(number(y))" x2="\##(number(width))" y2="\##(number(y))" stroke="#c62828" stroke-dasharray="4 3"/><text x="2" y="\##(number(y + 4))">target</text>"##)
        }
        parts.append(##"<text x="2" y="12">\##(escape(Self.seconds(top)))</text><line x1="\##(number(left))" y1="\##(number(bottom))" x2="\##(number(width))" y2="\##(number(bottom))" stroke="#999"/></svg>"##)
        return parts.joined(separator: "\n")
    }

    private func table(_ headers: [String], _ rows: [[String]], header: Bool = true) -> String {
        var html = "<table>"
        if header { html += "<tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>" }
        for row in rows { html += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }
        return html + "</table>"
    }

    private func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    static func seconds(_ interval: TimeInterval) -> String {
        DurationText.format(.milliseconds(Int64((interval * 1000).rounded())))
    }

    static func clock(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
