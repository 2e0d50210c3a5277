import DrctlCore
import Foundation
import RunbookFormat
import Simulator

/// `drctl whatif`'s answer: one row per failure, then what cannot be placed and why.
struct WhatIfTable {
    let inventory: Inventory
    let results: [WhatIf.Result]
    let wallTime: Duration

    /// The priority groups any result has, in order.
    var priorities: [Int] {
        Set(results.flatMap { $0.prediction.groups.compactMap(\.priority) }).sorted()
    }

    var headers: [String] {
        ["failure", "runbook", "VMs hit", "cannot place"] + priorities.map { "P\($0) back" } + ["all back", "RTO"]
    }

    var rows: [[String]] {
        results.map { result in
            let groups = Dictionary(result.prediction.groups.map { ($0.priority ?? 0, $0) }, uniquingKeysWith: { first, _ in first })
            let perGroup = priorities.map { priority -> String in
                guard let group = groups[priority] else { return "-" }
                guard let done = group.doneAt else { return "not back" }
                return DurationText.format(done) + (group.allBack ? "" : " (\(group.vms.filter { $0.backAt == nil }.count) not back)")
            }
            let allBack = result.prediction.vms.allSatisfy { $0.backAt != nil } && !result.prediction.vms.isEmpty
            return [result.failure.shortName, result.runbook, String(result.affected.count), String(result.cannotPlace.count)] + perGroup
                + [result.affected.isEmpty && result.prediction.vms.isEmpty ? "nothing to recover" : allBack ? DurationText.format(result.prediction.vms.compactMap(\.backAt).max() ?? .zero) : "no", result.verdict]
        }
    }

    var heading: String {
        let esxi = inventory.hosts.filter { $0.role == .esxi }.count
        return "What if: \(inventory.file), \(esxi) ESXi hosts, \(inventory.vms.count) VMs. Virtual time with ESXi's durations (docs/simulator.md); "
            + "approvals assumed given at once. \(results.count) failure\(results.count == 1 ? "" : "s") simulated in \(DurationText.format(wallTime)) of wall time."
    }

    /// The VMs that cannot be brought back, per failure, and why a run failed.
    var unplacedLines: [String] {
        results.filter { !$0.cannotPlace.isEmpty || $0.problem != nil }.flatMap { result in
            ["\(result.failure.shortName):"] + result.cannotPlace.map { "  \($0.vm): \($0.why)" } + (result.problem.map { ["  the run failed at \($0)"] } ?? [])
        }
    }

    var text: String {
        let table = [headers] + rows
        let widths = headers.indices.map { column in table.map { VisibleText.escape($0[column]).count }.max() ?? 0 }
        var lines = [heading, ""]
        for (index, row) in table.enumerated() {
            lines.append(row.enumerated().map { column, cell in
                let shown = VisibleText.escape(cell)
                return column == row.count - 1 ? shown : shown.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
            if index == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        if !unplacedLines.isEmpty { lines += ["", "Cannot be placed or recovered:"] + unplacedLines.map { "  " + VisibleText.escape($0) } }
        // One failure: what each group waited for, and the chain that set the total.
        if results.count == 1, let result = results.first {
            lines += ["", "Predicted recovery of \(result.failure.shortName):"] + result.prediction.lines.map(VisibleText.escape)
        }
        return lines.joined(separator: "\n")
    }

    var markdown: String {
        func cell(_ text: String) -> String { VisibleText.escape(text).replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["# What if", "", heading, "", "| " + headers.joined(separator: " | ") + " |", "|" + headers.map { _ in "---" }.joined(separator: "|") + "|"]
        lines += rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
        if !unplacedLines.isEmpty {
            lines += ["", "## Cannot be placed or recovered", ""]
            for result in results where !result.cannotPlace.isEmpty || result.problem != nil {
                lines += ["", "**\(cell(result.failure.shortName))**", ""] + result.cannotPlace.map { "- \(cell($0.vm)): \(cell($0.why))" }
                    + (result.problem.map { ["- the run failed at \(cell($0))"] } ?? [])
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var html: String {
        func escape(_ text: String) -> String {
            VisibleText.escape(text).replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var body = "<h1>What if</h1><p>\(escape(heading))</p><table><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        for row in rows {
            let missed = row.last?.hasPrefix("met") == false
            body += "<tr\(missed ? " class=\"missed\"" : "")>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        body += "</table>"
        if !unplacedLines.isEmpty {
            body += "<h2>Cannot be placed or recovered</h2>"
            for result in results where !result.cannotPlace.isEmpty || result.problem != nil {
                body += "<h3>\(escape(result.failure.shortName))</h3><ul>" + result.cannotPlace.map { "<li>\(escape($0.vm)): \(escape($0.why))</li>" }.joined()
                    + (result.problem.map { "<li>the run failed at \(escape($0))</li>" } ?? "") + "</ul>"
            }
        }
        let style = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}"
            + "th{background:#f0f0f0}tr.missed td{background:#fde8e8}@media print{body{margin:0}}"
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>drctl what-if</title><style>\(style)</style></head><body>\(body)</body></html>\n"
    }
}

extension InventorySite.Failure {
    var shortName: String {
        switch self {
        case .host(let name): "host \(name)"
        case .datastore(let name): "datastore \(name)"
        case .vcenter: "vCenter"
        }
    }
}
