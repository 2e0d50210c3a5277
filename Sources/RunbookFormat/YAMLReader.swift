import DrctlCore
import Foundation

/// Reads a YAML file node by node, keeping positions so every problem names `file:line:col`.
/// Problems are collected, not thrown, so `validate` can report all of them at once.
public final class YAMLReader {
    public let file: String
    public private(set) var diagnostics: [Diagnostic] = []

    public init(file: String) {
        self.file = file
    }

    /// More values than any runbook, inventory or scenario holds (a 10,000-VM site is well under it).
    static let maximumValues = 2_000_000

    /// Counts the values a node stands for, aliases expanded, stopping as soon as the budget runs out.
    static func fits(_ node: YAMLNode, within budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar: return true
        case .sequence(let sequence): return sequence.allSatisfy { fits($0, within: &budget) }
        case .mapping(let mapping):
            for (key, value) in mapping where !fits(key, within: &budget) || !fits(value, within: &budget) { return false }
            return true
        }
    }

    /// Aliases a file may use. Each can stand for a whole anchored tree, and trees can hold aliases
    /// of each other: a few dozen lines can stand for billions of values, and reading a node as
    /// values expands every alias in it. So they are counted in the text first: 32 aliases
    /// expand to at most about 120,000 values (3^(32/3)), and no runbook needs more.
    static let maximumAliases = 32

    /// Where the alias past `maximumAliases` is (`*name` where a value starts, outside quotes and
    /// comments), or nil.
    static func aliasBeyondLimit(in text: String) -> SourceLocation? {
        // Read as UTF-8 bytes: every character that matters here is ASCII, and a 10,000-VM
        // inventory is megabytes long. Only the column of a refusal is counted in characters.
        let starters = Set(" [{,:-?".utf8)
        var count = 0
        var lineNumber = 1
        var lineStart = text.utf8.startIndex
        var quote: UInt8?
        var previous = UInt8(ascii: " ")
        var inComment = false
        var index = text.utf8.startIndex
        while index < text.utf8.endIndex {
            let byte = text.utf8[index]
            let atLineStart = index == lineStart
            if byte == UInt8(ascii: "\n") {
                lineNumber += 1
                lineStart = text.utf8.index(after: index)
                quote = nil
                previous = UInt8(ascii: " ")
                inComment = false
            } else if inComment {
            } else if let open = quote {
                if byte == open { quote = nil }
                previous = byte
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                if starters.contains(previous) { quote = byte }
                previous = byte
            } else if byte == UInt8(ascii: "#"), previous == UInt8(ascii: " ") || atLineStart {
                inComment = true
            } else {
                if byte == UInt8(ascii: "*"), starters.contains(previous) || atLineStart {
                    count += 1
                    if count > maximumAliases {
                        return SourceLocation(file: "", line: lineNumber, column: text[lineStart..<index].count + 1)
                    }
                }
                // A character's continuation bytes leave `previous` as its last byte: never a starter.
                previous = byte
            }
            index = text.utf8.index(after: index)
        }
        return nil
    }

    /// Parses YAML text into a node tree, or records the syntax error.
    public func compose(_ text: String) -> YAMLNode? {
        if let place = Self.aliasBeyondLimit(in: text) {
            report(SourceLocation(file: file, line: place.line, column: place.column),
                   "more than \(Self.maximumAliases) aliases (*name): a few aliases of anchors that hold aliases can stand for billions of values; write the repeated parts out")
            return nil
        }
        do {
            guard let node = try YAMLComposer.compose(text) else {
                report(SourceLocation(file: file, line: 1, column: 1), "the file is empty")
                return nil
            }
            // Aliases can make a small file stand for billions of values ("billion laughs"): refuse it early.
            var budget = Self.maximumValues
            guard Self.fits(node, within: &budget) else {
                report(SourceLocation(file: file, line: 1, column: 1),
                       "the YAML stands for more than \(Self.maximumValues) values (anchors and aliases repeated inside each other?); write it out plainly")
                return nil
            }
            return node
        } catch YAMLComposer.Problem.syntax(let problem, let mark) {
            report(SourceLocation(file: file, line: mark.line, column: mark.column), "YAML syntax error: \(problem)\(YAMLProblem.meaning(of: problem))")
        } catch YAMLComposer.Problem.unreadable(let problem, let mark) {
            report(SourceLocation(file: file, line: mark.line, column: mark.column), "YAML error: \(problem)\(YAMLProblem.meaning(of: problem))")
        } catch YAMLComposer.Problem.duplicateKeys(let duplicates, let mark) {
            let first = SourceLocation(file: file, line: mark.line, column: mark.column)
            let second = YAMLProblem.repeatedKey(duplicates[0], after: first, in: text) ?? first
            report(second, "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping (first at line \(first.line)): keep only one")
        } catch {
            report(SourceLocation(file: file, line: 1, column: 1), "YAML error: \(error)")
        }
        return nil
    }

    public func location(_ node: YAMLNode) -> SourceLocation {
        SourceLocation(file: file, line: node.mark.line, column: node.mark.column)
    }

    public func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    public func report(_ node: YAMLNode, _ message: String) {
        report(location(node), message)
    }

    /// The pairs of a mapping, reporting keys not in `allowed` with a suggestion.
    public func mapping(_ node: YAMLNode, _ what: String, allowed: [String]) -> [(key: String, keyNode: YAMLNode, value: YAMLNode)]? {
        guard case .mapping(let mapping) = node else {
            report(node, "\(what) must be a mapping of keys to values, not \(describe(node))")
            return nil
        }
        var pairs: [(key: String, keyNode: YAMLNode, value: YAMLNode)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                report(keyNode, "keys in \(what) must be text")
                continue
            }
            if !allowed.contains(key) {
                report(keyNode, "unknown key '\(key)' in \(what)\(Suggestion.hint(for: key, among: allowed))")
                continue
            }
            pairs.append((key, keyNode, value))
        }
        return pairs
    }

    public func sequence(_ node: YAMLNode, _ what: String) -> [YAMLNode]? {
        switch node {
        case .sequence(let sequence): return sequence.items
        default:
            report(node, "\(what) must be a list, not \(describe(node))")
            return nil
        }
    }

    public func string(_ node: YAMLNode, _ what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(node, "\(what) must be text, not \(describe(node))")
            return nil
        }
        return scalar.string
    }

    public func integer(_ node: YAMLNode, _ what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, let number = Int(scalar.string) else {
            let tooLarge = { if case .scalar(let scalar) = node { return scalar.string.wholeMatch(of: /[-+]?[0-9]+/) != nil } else { return false } }()
            if tooLarge, let range {
                report(node, "\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(describe(node))")
            } else {
                report(node, tooLarge ? "\(what) \(describe(node)) is too large a number" : "\(what) must be a whole number, not \(describe(node))")
            }
            return nil
        }
        if let range, !range.contains(number) {
            report(node, "\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(number)")
            return nil
        }
        return number
    }

    public func double(_ node: YAMLNode, _ what: String) -> Double? {
        guard case .scalar(let scalar) = node, let number = Double(scalar.string) else {
            report(node, "\(what) must be a number, not \(describe(node))")
            return nil
        }
        return number
    }

    public func boolean(_ node: YAMLNode, _ what: String) -> Bool? {
        guard case .scalar(let scalar) = node, let bool = scalar.boolean else {
            report(node, "\(what) must be true or false, not \(describe(node))")
            return nil
        }
        return bool
    }

    /// `mustBePositive`: a timeout, interval or RTO of 0s would end (or spin) before anything runs.
    public func duration(_ node: YAMLNode, _ what: String, mustBePositive: Bool = false) -> Duration? {
        guard case .scalar(let scalar) = node, let duration = DurationText.parse(scalar.string) else {
            // A number too large or not finite (1e20, inf) reads like a duration: say what the limit is.
            let numeric = { if case .scalar(let scalar) = node { return scalar.string.contains(where: \.isNumber) || Double(scalar.string) != nil } else { return false } }()
            report(node, "\(what) must be a duration such as 30s, 5m or 1h30m, not \(describe(node))" + (numeric ? " (drctl takes durations up to a week)" : ""))
            return nil
        }
        if mustBePositive, duration <= .zero {
            report(node, "\(what) must be longer than 0s, such as 30s or 5m, not \(describe(node))")
            return nil
        }
        return duration
    }

    public func template(_ node: YAMLNode, _ what: String) -> LocatedTemplate? {
        guard let text = string(node, what) else { return nil }
        return template(text, at: node, what)
    }

    public func template(_ text: String, at node: YAMLNode, _ what: String) -> LocatedTemplate? {
        do {
            return LocatedTemplate(template: try Template(text), location: location(node))
        } catch let error as ExpressionSyntaxError {
            var place = location(node)
            if case .scalar(let scalar) = node, scalar.style == .plain { place.column += error.offset }
            report(place, "\(what): \(error.message)")
        } catch {
            report(node, "\(what): \(error)")
        }
        return nil
    }

    public func condition(_ node: YAMLNode, _ what: String) -> LocatedCondition? {
        guard let text = string(node, what) else { return nil }
        do {
            return LocatedCondition(expression: try ExpressionParser.parse(text), source: text, location: location(node))
        } catch let error as ExpressionSyntaxError {
            report(node, "\(what): \(error.message)")
        } catch {
            report(node, "\(what): \(error)")
        }
        return nil
    }

    /// A literal YAML value (params defaults, inventory fields) as a `Value`.
    public func value(_ node: YAMLNode) -> Value {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if let bool = scalar.boolean { return .bool(bool) }
                if let int = Int(scalar.string) { return .int(int) }
                if let double = Double(scalar.string), scalar.string.contains(".") { return .number(double) }
                if scalar.string == "~" || scalar.string == "null" { return .null }
            }
            return .string(scalar.string)
        case .sequence(let sequence): return .list(sequence.map(value))
        case .mapping(let mapping):
            var fields: [String: Value] = [:]
            for (key, item) in mapping { fields[key.string ?? ""] = value(item) }
            return .map(fields)
        }
    }

    public func describe(_ node: YAMLNode) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string.isEmpty ? "an empty value" : "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}

/// A template with the place it was written.
public struct LocatedTemplate: Sendable, Hashable {
    public var template: Template
    public var location: SourceLocation
}

/// A condition (`when`, `until`, `that`) with the place it was written.
public struct LocatedCondition: Sendable, Hashable {
    public var expression: Expression
    public var source: String
    public var location: SourceLocation
}
