import DrctlCore
import ESXi
import Foundation

/// The parts of a step that have a grammar of their own: captures, expectations, retries, verify.
extension RunbookLoader {
    static func parseCaptures(_ node: YAMLNode, _ reader: YAMLReader) -> [Capture] {
        (reader.mapping(node, "capture", allowed: mappingKeys(node)) ?? []).compactMap { name, _, value in
            let location = reader.location(value)
            if case .scalar = value {
                guard let pattern = reader.string(value, "capture \(name)"), validRegex(pattern, value, reader) else { return nil }
                return Capture(name: name, source: .regex(pattern: pattern, group: 1, all: false), location: location)
            }
            guard let pairs = reader.mapping(value, "capture \(name)", allowed: ["regex", "group", "all", "lines", "parser"]) else { return nil }
            var fields: [String: YAMLNode] = [:]
            for (key, _, item) in pairs { fields[key] = item }
            if let regex = fields["regex"] {
                guard let pattern = reader.string(regex, "regex"), validRegex(pattern, regex, reader) else { return nil }
                let group = fields["group"].flatMap { reader.integer($0, "group", range: 0...99) } ?? 1
                let all = fields["all"].flatMap { reader.boolean($0, "all") } ?? false
                return Capture(name: name, source: .regex(pattern: pattern, group: group, all: all), location: location)
            }
            if let lines = fields["lines"], reader.boolean(lines, "lines") == true {
                return Capture(name: name, source: .lines, location: location)
            }
            if let parserNode = fields["parser"], let parser = reader.string(parserNode, "parser") {
                guard OutputParsers.all[parser] != nil else {
                    reader.report(parserNode, "unknown parser '\(parser)'\(Suggestion.hint(for: parser, among: OutputParsers.names)); known: \(OutputParsers.names.joined(separator: ", "))")
                    return nil
                }
                return Capture(name: name, source: .parser(parser), location: location)
            }
            reader.report(value, "capture \(name) needs one of regex, lines: true or parser")
            return nil
        }
    }

    static func validRegex(_ pattern: String, _ node: YAMLNode, _ reader: YAMLReader) -> Bool {
        do {
            _ = try Regex(pattern)
            return true
        } catch {
            reader.report(node, "'\(pattern)' is not a valid regular expression: \(error)")
            return false
        }
    }

    static func parseEnsure(_ node: YAMLNode, _ reader: YAMLReader) -> Ensure? {
        guard let pairs = reader.mapping(node, "ensure", allowed: ["that", "message"]) else { return nil }
        var that: LocatedCondition?
        var message: LocatedTemplate?
        for (key, _, value) in pairs {
            switch key {
            case "that": that = reader.condition(value, "that")
            case "message": message = reader.template(value, "message")
            default: break
            }
        }
        guard let that, let message else {
            reader.report(node, "ensure needs 'that' (a condition over result) and 'message' (what is wrong and what to do)")
            return nil
        }
        return Ensure(that: that, message: message)
    }

    static func parseExpectation(_ node: YAMLNode, _ reader: YAMLReader) -> Expectation? {
        guard let pairs = reader.mapping(node, "expect", allowed: ["exit", "stdout_contains", "stdout_not_contains", "stdout_matches", "stderr_empty", "that", "message"]) else { return nil }
        var expectation = Expectation.exitZero
        func strings(_ value: YAMLNode, _ what: String) -> [String] {
            if case .sequence = value { return (reader.sequence(value, what) ?? []).compactMap { reader.string($0, what) } }
            return reader.string(value, what).map { [$0] } ?? []
        }
        for (key, _, value) in pairs {
            switch key {
            case "exit":
                if case .sequence = value {
                    expectation.exitStatuses = (reader.sequence(value, "exit") ?? []).compactMap { reader.integer($0, "an exit status", range: 0...255).map(Int32.init) }
                } else if let status = reader.integer(value, "exit", range: 0...255) {
                    expectation.exitStatuses = [Int32(status)]
                }
            case "stdout_contains": expectation.stdoutContains = strings(value, "stdout_contains")
            case "stdout_not_contains": expectation.stdoutNotContains = strings(value, "stdout_not_contains")
            case "stdout_matches":
                if let pattern = reader.string(value, "stdout_matches"), validRegex(pattern, value, reader) { expectation.stdoutMatches = pattern }
            case "stderr_empty": expectation.stderrEmpty = reader.boolean(value, "stderr_empty") ?? false
            case "that": expectation.that = reader.condition(value, "that")
            case "message": expectation.message = reader.string(value, "message")
            default: break
            }
        }
        return expectation
    }

    static func parseRetry(_ node: YAMLNode, _ reader: YAMLReader) -> Retry {
        if case .scalar = node { return Retry(attempts: reader.integer(node, "retry (attempts)", range: 1...100) ?? 1, delay: .seconds(2), backoff: 2, maxDelay: nil) }
        var retry = Retry(attempts: 1, delay: .seconds(2), backoff: 2, maxDelay: nil)
        for (key, _, value) in reader.mapping(node, "retry", allowed: ["attempts", "delay", "backoff", "max_delay"]) ?? [] {
            switch key {
            case "attempts": retry.attempts = reader.integer(value, "attempts", range: 1...100) ?? 1
            case "delay": retry.delay = reader.duration(value, "delay") ?? retry.delay
            case "backoff":
                if let factor = reader.double(value, "backoff") {
                    if factor < 1 { reader.report(value, "backoff multiplies each delay and must be 1 or more") } else { retry.backoff = factor }
                }
            case "max_delay": retry.maxDelay = reader.duration(value, "max_delay")
            default: break
            }
        }
        return retry
    }

    static func parseVerification(_ node: YAMLNode, _ reader: YAMLReader) -> Verification? {
        if case .scalar = node {
            guard let enabled = reader.boolean(node, "verify") else { return nil }
            return enabled ? .builtIn : .disabled
        }
        guard let pairs = reader.mapping(node, "verify", allowed: ["run", "action", "with", "expect", "that"]) else { return nil }
        var fields: [String: YAMLNode] = [:]
        for (key, _, value) in pairs { fields[key] = value }
        if let run = fields["run"] {
            guard let template = reader.template(run, "verify.run") else { return nil }
            let expectation = fields["expect"].flatMap { parseExpectation($0, reader) } ?? .exitZero
            return .run(template, expectation)
        }
        if let action = fields["action"] {
            guard let call = parseActionCall(action, with: fields["with"], reader) else { return nil }
            if let catalogAction = ActionCatalog.action(named: call.name), catalogAction.mutates {
                reader.report(action, "verify must be read-only, but \(call.name) changes the host")
            }
            return .action(call, fields["that"].flatMap { reader.condition($0, "that") })
        }
        reader.report(node, "verify needs 'run' (with 'expect') or 'action' (with 'that'), or true/false")
        return nil
    }
}
