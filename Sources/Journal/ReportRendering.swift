import DrctlCore
import Foundation

/// A run report as Markdown (for tickets and reviews) or as one self-contained HTML page with
/// an inline SVG timeline (for auditors); both say the same things in the same order.
extension RunReport {
    public var markdown: String {
        var lines = ["# Run report: \(runbook) (\(run))", ""]
        lines += summaryRows.map { "- **\($0.0)**: \($0.1)" }
        if let drill = drillVerdict {
            lines += ["", "## Drill verdict", "", "**\(drill.summary)**", "", "| | the scenario's check | found |", "|---|---|---|"]
            lines += drill.checks.map { "| \($0.passed ? "✓" : "✗") | \(cell($0.expectation)) | \(cell($0.detail)) |" }
            lines += ["", "Faults injected: " + (drill.faults.isEmpty ? "none fired." : drill.faults.map(cell).joined(separator: "; "))]
        }
        lines += ["", "## Journal integrity", "", chainSentence]
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
        if let prediction = drillVerdict?.prediction, !prediction.isEmpty {
            lines += ["", "## Predicted recovery", "", "In virtual time, with ESXi's durations: when each priority group would be back, and the chain of steps that set the total.",
                      "", "```"] + prediction.map { VisibleText.escape($0).replacingOccurrences(of: "```", with: "`\u{200B}``") } + ["```"]
        }
        lines += ["", "## Time to recovery", ""]
        lines.append(rtoSentence)
        if !recoveries.isEmpty {
            lines += ["", "| VM | host | powered on after |", "|---|---|---|"]
            lines += recoveries.map { "| \(cell($0.vm)) | \(cell($0.host)) | \(Self.seconds($0.after)) |" }
        }
        lines += ["", "## Commands that changed hosts", ""]
        lines += hostChanges.isEmpty ? ["(none)"] : ["| when (UTC) | host | step | command | run by | result |", "|---|---|---|---|---|---|"]
            + hostChanges.map { "| \(Self.time($0.at)) | \(cell($0.host)) | \(cell(where_($0))) | `\(cell($0.command))` | \(cell($0.by)) | \(cell($0.result)) |" }
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
            lines += ["", "## RTO trend (drills of \(runbook) against \(scenarioName))", "", "| drill | started | RTO achieved | outcome | drill verdict |", "|---|---|---|---|---|"]
            lines += trend.map { "| \($0.run == run ? "**\($0.run)** (this one)" : $0.run) | \(Self.clock($0.started)) | \(Self.seconds($0.rto)) | \($0.outcome) | \(TrendChart.kind($0).rawValue) |" }
        }
        lines.append("")
        // Names and outputs came from hosts and input files: their control characters are shown, not obeyed.
        return VisibleText.escape(lines.joined(separator: "\n"))
    }

    public var html: String {
        var body: [String] = []
        body.append("<h1>Run report: \(escape(runbook)) <small>\(escape(run))</small></h1>")
        body.append("<p class=\"verdict \(outcomeClass)\">\(escape(outcome))</p>")
        body.append(table(["", ""], summaryRows.map { [$0.0, $0.1] }, header: false))
        if let drill = drillVerdict {
            body.append("<h2>Drill verdict</h2><p class=\"verdict \(drill.verdict == "passed" ? "good" : drill.verdict == "failed" ? "bad" : "pending")\">\(escape(drill.summary))</p>")
            body.append(table(["", "the scenario's check", "found"], drill.checks.map { [$0.passed ? "✓" : "✗", $0.expectation, $0.detail] }))
            body.append("<p>Faults injected: \(drill.faults.isEmpty ? "none fired." : escape(drill.faults.joined(separator: "; ")))</p>")
        }
        body.append("<h2>Journal integrity</h2><p class=\"\(chain.broken == nil ? "ok" : "bad")\">\(escape(chainSentence))</p>")
        // One line, not a table: a runbook's params are many and short, and the report prints on two pages.
        body.append("<h2>Parameters</h2><p>" + (params.isEmpty ? "(none)"
            : params.map { "<code>\(escape($0.0))</code> = \(escape($0.1.isEmpty ? "(empty)" : $0.1))" }.joined(separator: " · ")) + "</p>")
        body.append("<h2>Approvals</h2>" + (approvals.isEmpty ? "<p>(none asked)</p>" : table(["step", "decision", "by", "when", "why", "prompt"],
            approvals.map { [$0.step, $0.decision, $0.by, Self.clock($0.at), $0.reason, $0.prompt] })))
        for approval in approvals where !approval.shown.isEmpty || !approval.unlocks.isEmpty {
            body.append("<details><summary>What \(escape(approval.by)) saw before deciding \(escape(approval.step))</summary>"
                        + (approval.shown.isEmpty ? "" : "<ul>" + approval.shown.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
                        + (approval.unlocks.isEmpty ? "" : "<pre>" + approval.unlocks.map(escape).joined(separator: "\n") + "</pre>") + "</details>")
        }
        if let prediction = drillVerdict?.prediction, !prediction.isEmpty {
            body.append("<h2>Predicted recovery</h2><p class=\"screen-only\">In virtual time, with ESXi's durations: when each priority group would be back, and the chain of steps that set the total.</p>"
                        + "<pre class=\"prediction\">" + prediction.map(escape).joined(separator: "\n") + "</pre>")
        }
        body.append("<h2>Time to recovery</h2><p>\(escape(rtoSentence))</p>")
        if !recoveries.isEmpty {
            // Printed, a drill's predicted recovery says this per group; on screen both are there.
            let predicted = drillVerdict.map { !$0.prediction.isEmpty } ?? false
            body.append(table(["VM", "host", "powered on after"], recoveries.map { [$0.vm, $0.host, Self.seconds($0.after)] }, className: predicted ? "screen-only" : nil))
        }
        body.append("<h2>Commands that changed hosts</h2>" + (hostChanges.isEmpty ? "<p>(none)</p>"
            : table(["when (UTC)", "host", "step", "command", "run by", "result"],
                    hostChanges.map { [Self.time($0.at), $0.host, where_($0), $0.command, $0.by, $0.result] }, className: "changes")))
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
            body.append("<h2>RTO trend (drills of \(escape(runbook)) against \(escape(scenarioName)))</h2>")
            body.append("<figure>" + TrendChart(points: trend, current: run, target: rtoTarget).svg + "</figure>")
            body.append("<details><summary>Every drill</summary>" + table(["drill", "started", "RTO achieved", "outcome", "drill verdict"],
                trend.map { [$0.run + ($0.run == run ? " (this one)" : ""), Self.clock($0.started), Self.seconds($0.rto), $0.outcome, TrendChart.kind($0).rawValue] }) + "</details>")
        }
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
        svg{max-width:100%;height:auto}table.changes td{white-space:nowrap}table.changes td:nth-child(4){font-family:monospace;font-size:12px;white-space:normal;word-break:break-all}
        @page{size:A4;margin:10mm}
        @media print{body{font-size:9.5px;line-height:1.3;margin:0;max-width:none}h1{font-size:17px;margin:0 0 4px}h2{font-size:12.5px;margin:10px 0 3px;break-after:avoid}
        td,th{padding:1px 5px}pre{font-size:8.5px;padding:4px;white-space:pre-wrap}pre.prediction{columns:2;column-gap:14px;font-size:7.5px;line-height:1.15}.verdict{font-size:13px;margin:4px 0}figure,tr,svg{break-inside:avoid}
        table.changes td:nth-child(4){font-size:7.5px}details,.screen-only{display:none}figcaption{font-size:8.5px}}
        </style></head>
        <body>
        \(body.joined(separator: "\n"))
        </body></html>
        """
    }

    private var summaryRows: [(String, String)] {
        var rows: [(String, String)] = [("Outcome", outcome)]
        if let goal { rows.append(("Goal", goal)) }
        if let drill = drillVerdict { rows.append(("Drill verdict", drill.summary)) }
        if virtualTime {
            rows.append(("Clock", "virtual: the drill ran as a discrete-event simulation; every time and duration here is what the recovery "
                         + "would take, not how long the drill took (wall_time in the journal)"))
        }
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
        let why = outcome == "succeeded" ? "MISSED." : "NOT MET: the run ended \(outcome), and only a run that succeeded meets an RTO."
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

    private func table(_ headers: [String], _ rows: [[String]], header: Bool = true, className: String? = nil) -> String {
        var html = className.map { "<table class=\"\($0)\">" } ?? "<table>"
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

    private func where_(_ change: HostChange) -> String { change.item.isEmpty ? change.step : "\(change.step) [\(change.item)]" }

    /// The scenario's file name, for headings.
    private var scenarioName: String { scenario.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? "" }

    /// `20:29:02.914`: commands a few milliseconds apart stay in order.
    static func time(_ date: Date) -> String { Timestamp.timeOfDay(date) }

    static func clock(_ date: Date) -> String { Timestamp.seconds(from: date) }
}
