import DrctlCore
import ESXi
import Foundation

/// Turns runbook YAML into a `Runbook`, reporting every problem with its `file:line:col`.
public enum RunbookLoader {
    static let topLevelKeys = ["runbook", "title", "description", "rto", "params", "limits", "redact", "steps", "goal"]
    static let stepKeys = ["id", "title", "needs", "run", "action", "with", "approval", "probe", "wait", "on", "foreach",
                           "order", "barrier", "when", "capture", "expect", "retry", "timeout", "on_failure", "verify", "mutates", "set", "ensure", "skipped_because",
                           "fallback", "hand_off", "after"]
    static let kindKeys = ["run", "action", "approval", "probe", "wait"]

    /// Loads and fully validates a runbook file. Throws `InvalidInput` listing every problem.
    public static func load(path: String) throws -> Runbook {
        let text = try readInputFile(path, what: "runbook")
        return try load(text: text, file: path)
    }

    public static func load(text: String, file: String) throws -> Runbook {
        let reader = YAMLReader(file: file)
        let runbook = parse(text: text, reader: reader)
        var diagnostics = reader.diagnostics
        if let runbook { diagnostics += RunbookValidator.validate(runbook) }
        guard diagnostics.isEmpty, let runbook else { throw InvalidInput(diagnostics) }
        return runbook
    }

    static func parse(text: String, reader: YAMLReader) -> Runbook? {
        guard let root = reader.compose(text),
              let pairs = reader.mapping(root, "the runbook", allowed: topLevelKeys) else { return nil }
        var runbook = Runbook(name: "", title: "", description: "", rto: nil, params: [], limits: .init(), redact: [], steps: [],
                              file: reader.file, source: text)
        var sawSteps = false
        for (key, _, value) in pairs {
            switch key {
            case "runbook": runbook.name = reader.string(value, "runbook (the name)") ?? ""
            case "title": runbook.title = reader.string(value, "title") ?? ""
            case "description": runbook.description = reader.string(value, "description") ?? ""
            case "rto": runbook.rto = reader.duration(value, "rto", mustBePositive: true)
            case "params": runbook.params = parseParams(value, reader)
            case "limits": runbook.limits = parseLimits(value, reader)
            case "redact":
                runbook.redact = (reader.sequence(value, "redact") ?? []).compactMap { item in
                    guard let pattern = reader.string(item, "a redact pattern"), validRegex(pattern, item, reader) else { return nil }
                    return pattern
                }
            case "steps":
                sawSteps = true
                runbook.steps = (reader.sequence(value, "steps") ?? []).compactMap { parseStep($0, reader) }
            case "goal": runbook.goal = parseGoal(value, reader)
            default: break
            }
        }
        let start = reader.location(root)
        if runbook.name.isEmpty { reader.report(start, "missing 'runbook:' (the runbook's name, e.g. runbook: host-failure)") }
        if !sawSteps { reader.report(start, "missing 'steps:' (the list of steps to run)") }
        return runbook
    }

    static func parseParams(_ node: YAMLNode, _ reader: YAMLReader) -> [Runbook.Parameter] {
        (reader.sequence(node, "params") ?? []).compactMap { item in
            guard let pairs = reader.mapping(item, "a param", allowed: ["name", "description", "required", "default", "type"]) else { return nil }
            var parameter = Runbook.Parameter(name: "", description: "", required: false, defaultValue: nil, kind: .text,
                                              location: reader.location(item))
            var defaultNode: YAMLNode?
            for (key, _, value) in pairs {
                switch key {
                case "name": parameter.name = reader.string(value, "a param's name") ?? ""
                case "description": parameter.description = reader.string(value, "description") ?? ""
                case "required": parameter.required = reader.boolean(value, "required") ?? false
                case "default":
                    parameter.defaultValue = reader.value(value)
                    defaultNode = value
                case "type":
                    let text = reader.string(value, "type") ?? ""
                    if let kind = Runbook.Parameter.Kind(rawValue: text) {
                        parameter.kind = kind
                    } else {
                        reader.report(value, "type must be one of \(Runbook.Parameter.Kind.allCases.map(\.rawValue).joined(separator: ", "))\(Suggestion.hint(for: text, among: Runbook.Parameter.Kind.allCases.map(\.rawValue)))")
                    }
                default: break
                }
            }
            if parameter.name.isEmpty { reader.report(item, "a param needs a name") }
            if let defaultNode, let value = parameter.defaultValue, let problem = defaultProblem(value, parameter.kind) {
                reader.report(defaultNode, "param '\(parameter.name)' is a \(parameter.kind.rawValue), but its default \(problem)")
            }
            return parameter
        }
    }

    /// Why a default does not fit its param's type (the same rule as `--param` values), or nil.
    static func defaultProblem(_ value: Value, _ kind: Runbook.Parameter.Kind) -> String? {
        switch (kind, value) {
        case (.number, .number), (.boolean, .bool), (.list, .list), (_, .null): return nil
        case (.number, _): return "'\(value.text)' is not a number: write one, such as 50"
        case (.boolean, _): return "'\(value.text)' is not true or false"
        case (.list, _): return nil  // a single value is a list of one
        default: return nil
        }
    }

    static func parseLimits(_ node: YAMLNode, _ reader: YAMLReader) -> Runbook.Limits {
        var limits = Runbook.Limits()
        for (key, _, value) in reader.mapping(node, "limits", allowed: ["max_parallel", "max_per_host", "read_timeout"]) ?? [] {
            if key == "read_timeout" { limits.readTimeout = reader.duration(value, "read_timeout", mustBePositive: true) }
            if key == "max_parallel" { limits.maxParallel = reader.integer(value, "max_parallel", range: 1...10_000) }
            if key == "max_per_host" { limits.maxPerHost = reader.integer(value, "max_per_host", range: 1...1_000) }
        }
        return limits
    }

    static func parseStep(_ node: YAMLNode, _ reader: YAMLReader) -> Step? {
        guard let pairs = reader.mapping(node, "a step", allowed: stepKeys) else { return nil }
        var keys: [String: YAMLNode] = [:]
        var keyLocations: [String: SourceLocation] = [:]
        for (key, keyNode, value) in pairs {
            keys[key] = value
            keyLocations[key] = reader.location(keyNode)
        }
        let location = reader.location(node)
        let id = keys["id"].flatMap { reader.string($0, "id") } ?? ""
        let name = id.isEmpty ? "this step" : "step '\(id)'"
        if keys["id"] == nil { reader.report(location, "a step has no 'id': give it a unique id such as id: power-on") }

        let kinds = kindKeys.filter { keys[$0] != nil }
        if kinds.isEmpty {
            reader.report(location, "\(name) needs exactly one of run, action, approval, probe or wait")
            return nil
        }
        if kinds.count > 1 {
            reader.report(keyLocations[kinds[1]]!, "\(name) has both '\(kinds[0])' and '\(kinds[1])': a step does exactly one thing; split it in two")
            return nil
        }
        if keys["with"] != nil && kinds[0] != "action" {
            reader.report(keyLocations["with"]!, "'with' gives arguments to an action, but \(name) has no 'action'")
        }
        guard let kind = parseKind(kinds[0], keys, keyLocations, reader) else { return nil }

        var step = Step(id: id, title: "", needs: [], kind: kind, on: nil, foreach: nil, order: .listed, barrier: false, when: nil,
                        captures: [], expect: .exitZero, retry: .none, timeout: nil, onFailure: .abort, verify: nil,
                        mutates: defaultMutates(kind), fallback: false, handOff: nil, set: [], location: location, keyLocations: keyLocations)
        for (key, _, value) in pairs {
            switch key {
            case "title": step.title = reader.string(value, "title") ?? ""
            case "needs":
                if case .scalar = value { step.needs = reader.string(value, "needs").map { [$0] } ?? [] } else {
                    step.needs = (reader.sequence(value, "needs") ?? []).compactMap { reader.string($0, "a needs entry") }
                }
            case "after":
                if case .scalar = value { step.after = reader.string(value, "after").map { [$0] } ?? [] } else {
                    step.after = (reader.sequence(value, "after") ?? []).compactMap { reader.string($0, "an after entry") }
                }
            case "on": step.on = parseHostList(value, reader)
            case "foreach": step.foreach = parseForeach(value, reader)
            case "order":
                let text = reader.string(value, "order") ?? ""
                if let order = ItemOrder(rawValue: text) { step.order = order } else {
                    reader.report(value, "order must be 'listed' or 'priority'\(Suggestion.hint(for: text, among: ItemOrder.allCases.map(\.rawValue)))")
                }
            case "barrier": step.barrier = reader.boolean(value, "barrier") ?? false
            case "when": step.when = reader.condition(value, "when")
            case "skipped_because": step.skippedBecause = reader.template(value, "skipped_because")
            case "capture": step.captures = parseCaptures(value, reader)
            case "expect": step.expect = parseExpectation(value, reader) ?? .exitZero
            case "retry": step.retry = parseRetry(value, reader)
            case "timeout": step.timeout = reader.duration(value, "timeout", mustBePositive: true)
            case "on_failure":
                let text = reader.string(value, "on_failure") ?? ""
                if let policy = FailurePolicy(rawValue: text) { step.onFailure = policy } else {
                    reader.report(value, "on_failure must be abort, continue or ask\(Suggestion.hint(for: text, among: FailurePolicy.allCases.map(\.rawValue)))")
                }
            case "verify": step.verify = parseVerification(value, reader)
            case "mutates": step.mutates = reader.boolean(value, "mutates") ?? step.mutates
            case "fallback": step.fallback = reader.boolean(value, "fallback") ?? false
            case "hand_off":
                if case .approval = kind { step.handOff = reader.template(value, "hand_off") } else {
                    reader.report(value, "hand_off names what a manual step takes over, so it belongs on an approval")
                }
            case "set":
                for (name, _, item) in reader.mapping(value, "set", allowed: mappingKeys(value)) ?? [] {
                    if let template = reader.template(item, "set.\(name)") { step.set.append((name, template)) }
                }
            case "ensure": step.ensure = parseEnsure(value, reader)
            default: break
            }
        }
        if step.verify == nil, case .action(let call) = kind, ActionCatalog.action(named: call.name)?.verify != nil {
            step.verify = .builtIn
        }
        return step
    }

    static func defaultMutates(_ kind: Step.Kind) -> Bool {
        switch kind {
        case .run: return true
        case .action(let call): return ActionCatalog.action(named: call.name)?.mutates ?? true
        case .approval, .probe: return false
        case .wait(let wait):
            if case .action(let call) = wait.check { return ActionCatalog.action(named: call.name)?.mutates ?? false }
            return false
        }
    }

    static func parseKind(_ kind: String, _ keys: [String: YAMLNode], _ keyLocations: [String: SourceLocation], _ reader: YAMLReader) -> Step.Kind? {
        let value = keys[kind]!
        switch kind {
        case "run":
            return reader.template(value, "run").map(Step.Kind.run)
        case "action":
            return parseActionCall(value, with: keys["with"], reader).map(Step.Kind.action)
        case "approval":
            if case .scalar = value { return reader.template(value, "approval").map { .approval(Approval(prompt: $0, show: [])) } }
            guard let pairs = reader.mapping(value, "approval", allowed: ["prompt", "show", "approvers", "distinct_from_operator", "timeout", "on_timeout"]) else { return nil }
            var prompt: LocatedTemplate?
            var show: [(label: String, value: LocatedTemplate)] = []
            var approvers: [String] = []
            var distinct = false
            var timeout: Duration?
            var onTimeout: Approval.OnTimeout?
            var onTimeoutNode: YAMLNode?
            for (key, _, item) in pairs {
                if key == "prompt" { prompt = reader.template(item, "prompt") }
                if key == "approvers" { approvers = (reader.sequence(item, "approvers") ?? []).compactMap { reader.string($0, "an approver") } }
                if key == "distinct_from_operator" { distinct = reader.boolean(item, "distinct_from_operator") ?? false }
                if key == "timeout" { timeout = reader.duration(item, "timeout", mustBePositive: true) }
                if key == "on_timeout" {
                    onTimeoutNode = item
                    let text = reader.string(item, "on_timeout") ?? ""
                    onTimeout = Approval.OnTimeout(rawValue: text)
                    if onTimeout == nil {
                        reader.report(item, "on_timeout must be deny, continue or abort\(Suggestion.hint(for: text, among: Approval.OnTimeout.allCases.map(\.rawValue)))")
                    }
                }
                if key == "show" {
                    for (label, _, shown) in reader.mapping(item, "show", allowed: mappingKeys(item)) ?? [] {
                        if let template = reader.template(shown, "show.\(label)") { show.append((label, template)) }
                    }
                }
            }
            guard let prompt else {
                reader.report(value, "an approval needs a prompt: the question the operator answers")
                return nil
            }
            if let onTimeoutNode, timeout == nil { reader.report(onTimeoutNode, "on_timeout needs a timeout: how long to wait for a decision") }
            if timeout != nil, onTimeout == nil, onTimeoutNode == nil {
                reader.report(value, "an approval with a timeout needs on_timeout: deny, continue or abort (what happens when nobody decides)")
            }
            return .approval(Approval(prompt: prompt, show: show, approvers: approvers, distinctFromOperator: distinct, timeout: timeout, onTimeout: onTimeout ?? .deny))
        case "probe":
            return parseProbe(value, reader).map(Step.Kind.probe)
        case "wait":
            guard let pairs = reader.mapping(value, "wait", allowed: ["run", "action", "with", "probe", "until", "interval", "timeout"]) else { return nil }
            var fields: [String: YAMLNode] = [:]
            for (key, _, item) in pairs { fields[key] = item }
            let check: Wait.Check?
            if let run = fields["run"] {
                check = reader.template(run, "wait.run").map(Wait.Check.run)
            } else if let action = fields["action"] {
                check = parseActionCall(action, with: fields["with"], reader).map(Wait.Check.action)
            } else if let probe = fields["probe"] {
                check = parseProbe(probe, reader).map(Wait.Check.probe)
            } else {
                reader.report(value, "a wait needs 'run', 'action' or 'probe': the check to repeat")
                check = nil
            }
            guard let untilNode = fields["until"] else {
                reader.report(value, "a wait needs 'until': the condition that ends it, e.g. until: result.mounted")
                return nil
            }
            guard let check, let until = reader.condition(untilNode, "until") else { return nil }
            let interval = fields["interval"].flatMap { reader.duration($0, "interval", mustBePositive: true) } ?? .seconds(5)
            var timeout = Duration.seconds(300)
            var timeoutTemplate: LocatedTemplate?
            if let node = fields["timeout"] {
                if let text = reader.string(node, "timeout"), text.contains("{{") {
                    timeoutTemplate = reader.template(node, "timeout")
                } else {
                    timeout = reader.duration(node, "timeout", mustBePositive: true) ?? timeout
                }
            }
            return .wait(Wait(check: check, until: until, interval: interval, timeout: timeout, timeoutTemplate: timeoutTemplate))
        default:
            return nil
        }
    }

    static func parseProbe(_ value: YAMLNode, _ reader: YAMLReader) -> Probe? {
        guard let pairs = reader.mapping(value, "probe", allowed: ["target", "via", "port", "expect", "paths"]) else { return nil }
        var paths: [String]?
        var target: LocatedTemplate?
        var method = Probe.Method.ssh
        var port: Int?
        var expected: Probe.State? = .up
        for (key, _, item) in pairs {
            switch key {
            case "target": target = reader.template(item, "probe target")
            case "via":
                let text = reader.string(item, "via") ?? ""
                if let parsed = Probe.Method(rawValue: text) { method = parsed } else {
                    reader.report(item, "via must be ssh, tcp or https\(Suggestion.hint(for: text, among: Probe.Method.allCases.map(\.rawValue)))")
                }
            case "paths": paths = (reader.sequence(item, "paths") ?? []).compactMap { reader.string($0, "a path") }
            case "port": port = reader.integer(item, "port", range: 1...65535)
            case "expect":
                let text = reader.string(item, "expect") ?? ""
                if text == "either" { expected = nil } else if let parsed = Probe.State(rawValue: text) { expected = parsed } else {
                    reader.report(item, "a probe's expect must be up, down or either")
                }
            default: break
            }
        }
        guard let target else {
            reader.report(value, "a probe needs a target: an inventory host name, or address:port with via: tcp")
            return nil
        }
        var probe = Probe(target: target, method: method, port: port, expect: expected)
        if let paths, !paths.isEmpty { probe.paths = paths }
        return probe
    }

    static func mappingKeys(_ node: YAMLNode) -> [String] {
        guard case .mapping(let mapping) = node else { return [] }
        return mapping.compactMap(\.key.string)
    }

    static func parseActionCall(_ node: YAMLNode, with arguments: YAMLNode?, _ reader: YAMLReader) -> ActionCall? {
        guard let name = reader.string(node, "action") else { return nil }
        let action = ActionCatalog.action(named: name)
        if action == nil {
            reader.report(node, "unknown action '\(name)'\(Suggestion.hint(for: name, among: ActionCatalog.names)); `drctl actions` lists them")
        }
        var templates: [String: LocatedTemplate] = [:]
        if let arguments {
            let allowed = action?.parameters.map(\.name) ?? mappingKeys(arguments)
            for (key, _, value) in reader.mapping(arguments, "with (the arguments of \(name))", allowed: allowed) ?? [] {
                let text: String
                switch value {
                case .scalar(let scalar): text = scalar.string
                default:
                    reader.report(value, "argument '\(key)' must be a single value or a {{ template }}")
                    continue
                }
                templates[key] = reader.template(text, at: value, "with.\(key)")
            }
        }
        if let action {
            // Literal values are checked now; templated ones when the step runs.
            for parameter in action.parameters {
                guard let located = templates[parameter.name], !located.template.source.contains("{{") else { continue }
                let text = located.template.source
                switch parameter.kind {
                case .duration where DurationText.parse(text) == nil:
                    reader.report(located.location, "'\(parameter.name)' must be a duration such as 250ms, 5s or 1m (at most a week), not '\(text)'")
                case .choice(let choices) where !choices.contains(text):
                    reader.report(located.location, "'\(parameter.name)' must be one of \(choices.joined(separator: ", "))\(Suggestion.hint(for: text, among: choices)), not '\(text)'")
                case .integer where Int(text.trimmingBlanks()) == nil:
                    reader.report(located.location, "'\(parameter.name)' must be a whole number, not '\(text)'")
                default: break
                }
            }
            for parameter in action.parameters where parameter.required && templates[parameter.name] == nil {
                reader.report(arguments ?? node, "action \(name) needs '\(parameter.name)' under 'with:' (\(parameter.summary))")
            }
        }
        return ActionCall(name: name, arguments: templates, location: reader.location(node), outputNames: action?.outputs ?? [])
    }

    /// `on: esxi-01`, `on: [esxi-01, esxi-02]` or `on: "{{ ... }}"`.
    static func parseHostList(_ node: YAMLNode, _ reader: YAMLReader) -> LocatedTemplate? {
        if case .sequence(let sequence) = node {
            let names = sequence.compactMap { reader.string($0, "a host name") }
            let literal = "{{ [" + names.map { "'\($0.replacingOccurrences(of: "'", with: "\\'"))'" }.joined(separator: ", ") + "] }}"
            return reader.template(literal, at: node, "on")
        }
        return reader.template(node, "on")
    }

    /// `foreach: "{{ steps.find.vms }}"` or a literal YAML list.
    static func parseForeach(_ node: YAMLNode, _ reader: YAMLReader) -> LocatedTemplate? {
        if case .sequence = node {
            let items = reader.value(node).listValue ?? []
            let literal = "{{ [" + items.map { "'\($0.text.replacingOccurrences(of: "'", with: "\\'"))'" }.joined(separator: ", ") + "] }}"
            return reader.template(literal, at: node, "foreach")
        }
        guard let located = reader.template(node, "foreach") else { return nil }
        if located.template.soleExpression == nil {
            reader.report(node, "foreach must be a list or a single {{ expression }} giving a list, e.g. foreach: \"{{ steps.find.vms }}\"")
            return nil
        }
        return located
    }
}
