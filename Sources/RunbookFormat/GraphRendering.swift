import DrctlCore
/// The step graph as Graphviz dot or Mermaid text (`drctl graph`).
public enum GraphRendering {
    public enum Format: String, CaseIterable, Sendable {
        case dot, mermaid
    }

    public static func render(_ runbook: Runbook, as format: Format) -> String {
        switch format {
        case .dot: return dot(runbook)
        case .mermaid: return mermaid(runbook)
        }
    }

    static func label(_ step: Step) -> String {
        var lines = [step.id]
        if !step.title.isEmpty { lines.append(step.title) }
        var detail = step.kind.name
        if case .action(let call) = step.kind { detail = call.name }
        if let foreach = step.foreach { detail += " × each of \(foreach.template.source.replacingOccurrences(of: "{{", with: "").replacingOccurrences(of: "}}", with: "").trimmingBlanks())" }
        if step.order == .priority { detail += " by priority" }
        lines.append(detail)
        return lines.joined(separator: "\n")
    }

    static func dot(_ runbook: Runbook) -> String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var lines = ["digraph \(quoted(runbook.name)) {", "  rankdir=TB;", "  node [shape=box, style=rounded, fontname=\"Helvetica\"];"]
        for step in runbook.steps {
            var attributes = ["label=\(quoted(label(step)))"]
            switch step.kind {
            case .approval: attributes.append("shape=octagon, style=filled, fillcolor=\"#ffe08a\"")
            case .probe: attributes.append("shape=ellipse")
            case .wait: attributes.append("shape=hexagon")
            case .run, .action:
                if step.isFanOut { attributes.append("shape=box3d") }
                if step.mutates { attributes.append("color=\"#b03030\"") }
            }
            lines.append("  \(quoted(step.id)) [\(attributes.joined(separator: ", "))];")
        }
        for step in runbook.steps {
            for need in step.needs {
                lines.append("  \(quoted(need)) -> \(quoted(step.id))\(step.barrier ? " [style=bold, label=\"barrier\"]" : "");")
            }
            for earlier in step.after { lines.append("  \(quoted(earlier)) -> \(quoted(step.id)) [style=dashed, label=\"after\"];") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func mermaid(_ runbook: Runbook) -> String {
        // Mermaid ids cannot hold every character a step id can, so nodes get positional ids.
        let ids = Dictionary(uniqueKeysWithValues: runbook.steps.enumerated().map { ($1.id, "s\($0 + 1)") })
        func text(_ step: Step) -> String {
            "\"" + label(step).replacingOccurrences(of: "\"", with: "#quot;").replacingOccurrences(of: "\n", with: "<br/>") + "\""
        }
        var lines = ["flowchart TD"]
        for step in runbook.steps {
            let id = ids[step.id]!
            switch step.kind {
            case .approval: lines.append("  \(id){{\(text(step))}}")
            case .probe: lines.append("  \(id)([\(text(step))])")
            case .wait: lines.append("  \(id)[/\(text(step))/]")
            case .run, .action: lines.append("  \(id)[\(text(step))]")
            }
        }
        for step in runbook.steps {
            for need in step.needs {
                guard let from = ids[need] else { continue }
                lines.append("  \(from) \(step.barrier ? "==>" : "-->") \(ids[step.id]!)")
            }
            for earlier in step.after {
                guard let from = ids[earlier] else { continue }
                lines.append("  \(from) -.->|after| \(ids[step.id]!)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
