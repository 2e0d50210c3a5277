import DrctlCore
import Foundation

/// Resolves the root names of a template (`params`, `item`, `steps`, ...) at run time.
public protocol TemplateScope {
    func value(of root: String) -> Value?
}

/// A scope backed by a dictionary of roots.
public struct DictionaryScope: TemplateScope, Sendable {
    public var roots: [String: Value]
    public init(_ roots: [String: Value]) { self.roots = roots }
    public func value(of root: String) -> Value? { roots[root] }
}

public struct EvaluationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Evaluates expressions against a scope.
public enum ExpressionEvaluator {
    public static let filterNames = ["raw", "join", "default", "where", "where_in", "where_not_in", "exclude", "merge", "map", "names",
                                     "first", "last", "count", "sum", "concat", "unique_by", "format", "lower", "upper", "trim", "sort", "unique", "flatten", "int", "keys", "place", "words", "capacity_policy", "compact"]
        + RecoveryFilters.names

    public static func evaluate(_ expression: Expression, in scope: TemplateScope) throws -> Value {
        switch expression {
        case .literal(let value):
            return value
        case .list(let items):
            return .list(try items.map { try evaluate($0, in: scope) })
        case .path(let segments):
            return try resolve(segments, in: scope)
        case .filter(let base, "default", let arguments):
            // `default` also covers a field that is missing altogether; a value not known yet stays unknown.
            let value = (try? evaluate(base, in: scope)) ?? .null
            if value.isUnknown { return .unknown(describe(expression)) }
            return try applyFilter("default", to: value, arguments: try arguments.map { try evaluate($0, in: scope) })
        case .filter(let base, let name, let arguments):
            let value = try evaluate(base, in: scope)
            let values = try arguments.map { try evaluate($0, in: scope) }
            if value.isUnknown || values.contains(where: \.isUnknown) { return .unknown(describe(expression)) }
            return try applyFilter(name, to: value, arguments: values)
        case .not(let inner):
            let value = try evaluate(inner, in: scope)
            if value.isUnknown { return value }
            return .bool(!value.isTruthy)
        case .and(let left, let right):
            let first = try evaluate(left, in: scope)
            if !first.isUnknown && !first.isTruthy { return .bool(false) }
            let second = try evaluate(right, in: scope)
            if first.isUnknown || second.isUnknown { return .unknown("\(describe(left)) and \(describe(right))") }
            return .bool(second.isTruthy)
        case .or(let left, let right):
            let first = try evaluate(left, in: scope)
            if !first.isUnknown && first.isTruthy { return .bool(true) }
            let second = try evaluate(right, in: scope)
            if first.isUnknown || second.isUnknown { return second.isTruthy ? .bool(true) : .unknown("\(describe(left)) or \(describe(right))") }
            return .bool(second.isTruthy)
        case .compare(let left, let comparison, let right):
            let lhs = try evaluate(left, in: scope)
            let rhs = try evaluate(right, in: scope)
            if lhs.isUnknown || rhs.isUnknown { return .unknown(describe(expression)) }
            return .bool(try compare(lhs, comparison, rhs))
        }
    }

    /// Evaluates a condition: true, false, or nil when it depends on values known only at run time.
    public static func condition(_ expression: Expression, in scope: TemplateScope) throws -> Bool? {
        let value = try evaluate(expression, in: scope)
        return value.isUnknown ? nil : value.isTruthy
    }

    static func resolve(_ segments: [Expression.PathSegment], in scope: TemplateScope) throws -> Value {
        guard case .name(let root) = segments.first else { throw EvaluationError("a reference must start with a name") }
        guard var current = scope.value(of: root) else { throw EvaluationError("'\(root)' is not defined here") }
        var walked = root
        for segment in segments.dropFirst() {
            if case .unknown(let text) = current {
                if case .name(let field) = segment { current = .unknown("\(text).\(field)") } else { current = .unknown("\(text)[…]") }
                continue
            }
            switch segment {
            case .name(let field):
                guard let fields = current.mapValue else {
                    throw EvaluationError("\(walked) is a \(current.kindName), it has no field '\(field)'")
                }
                guard let next = fields[field] else {
                    throw EvaluationError("\(walked) has no field '\(field)'" + Suggestion.hint(for: field, among: Array(fields.keys)))
                }
                current = next
                walked += ".\(field)"
            case .index(let expression):
                let key = try evaluate(expression, in: scope)
                if key.isUnknown { return .unknown("\(walked)[\(describe(expression))]") }
                if let items = current.listValue, let number = key.numberValue {
                    let index = Int(number)
                    guard items.indices.contains(index) else {
                        throw EvaluationError("\(walked) has \(items.count) entries, index \(index) is out of range")
                    }
                    current = items[index]
                } else if let fields = current.mapValue {
                    guard let next = fields[key.text] else { throw EvaluationError("\(walked) has no entry '\(key.text)'") }
                    current = next
                } else {
                    throw EvaluationError("\(walked) is a \(current.kindName) and cannot be indexed")
                }
                walked += "[\(key.text)]"
            }
        }
        return current
    }

    static func compare(_ lhs: Value, _ comparison: ComparisonOperator, _ rhs: Value) throws -> Bool {
        switch comparison {
        case .equal: return equal(lhs, rhs)
        case .notEqual: return !equal(lhs, rhs)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let ordering: Int
            if let left = lhs.numberValue, let right = rhs.numberValue {
                ordering = left < right ? -1 : (left > right ? 1 : 0)
            } else {
                ordering = lhs.text < rhs.text ? -1 : (lhs.text > rhs.text ? 1 : 0)
            }
            switch comparison {
            case .less: return ordering < 0
            case .lessOrEqual: return ordering <= 0
            case .greater: return ordering > 0
            default: return ordering >= 0
            }
        case .in: return try contains(rhs, lhs)
        case .notIn: return try !contains(rhs, lhs)
        case .contains: return try contains(lhs, rhs)
        case .matches:
            do {
                return try Regex(rhs.text).firstMatch(in: lhs.text) != nil
            } catch {
                throw EvaluationError("'\(rhs.text)' is not a valid regular expression")
            }
        }
    }

    static func equal(_ lhs: Value, _ rhs: Value) -> Bool {
        if let left = lhs.numberValue, let right = rhs.numberValue, !(lhs.isStringLike && rhs.isStringLike) { return left == right }
        if case .bool(let left) = lhs, case .string(let right) = rhs { return String(left) == right.lowercased() }
        if case .string(let left) = lhs, case .bool(let right) = rhs { return left.lowercased() == String(right) }
        if lhs.isStringLike || rhs.isStringLike { return lhs.text == rhs.text }
        return lhs == rhs
    }

    static func contains(_ container: Value, _ element: Value) throws -> Bool {
        switch container {
        case .list(let items): return items.contains { equal($0, element) || ($0.mapValue?["name"].map { equal($0, element) } ?? false) }
        case .map(let fields): return fields[element.text] != nil
        case .string(let text): return text.contains(element.text)
        case .null: return false
        default: throw EvaluationError("cannot look inside a \(container.kindName)")
        }
    }

    /// A readable form of an expression, for plans and messages.
    public static func describe(_ expression: Expression) -> String {
        switch expression {
        case .literal(let value):
            if case .string(let text) = value { return "'\(text)'" }
            return value.text
        case .list(let items): return "[" + items.map(describe).joined(separator: ", ") + "]"
        case .path(let segments):
            return segments.enumerated().map { index, segment in
                switch segment {
                case .name(let name): return index == 0 ? name : ".\(name)"
                case .index(let inner): return "[\(describe(inner))]"
                }
            }.joined()
        case .filter(let base, let name, let arguments):
            return "\(describe(base)) | \(name)" + (arguments.isEmpty ? "" : "(" + arguments.map(describe).joined(separator: ", ") + ")")
        case .compare(let left, let comparison, let right): return "\(describe(left)) \(comparison.rawValue) \(describe(right))"
        case .and(let left, let right): return "\(describe(left)) and \(describe(right))"
        case .or(let left, let right): return "\(describe(left)) or \(describe(right))"
        case .not(let inner): return "not \(describe(inner))"
        }
    }
}

extension Value {
    var isStringLike: Bool {
        if case .string = self { return true }
        return false
    }
}
