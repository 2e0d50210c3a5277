import DrctlCore

/// The small expression language of templates (`{{ item.name | upper }}`) and conditions
/// (`steps.probe.state == 'down' and not params.force`).
public indirect enum Expression: Sendable, Hashable {
    case literal(Value)
    /// A reference such as `steps.find-vms.vms` or `item.name`; segments may be computed (`x[item]`).
    case path([PathSegment])
    case list([Expression])
    case filter(Expression, name: String, arguments: [Expression])
    case compare(Expression, ComparisonOperator, Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)

    public enum PathSegment: Sendable, Hashable {
        case name(String)
        case index(Expression)
    }

    /// Every reference the expression reads, as name paths (computed segments end the path).
    public var references: [[String]] {
        switch self {
        case .literal: return []
        case .path(let segments):
            var names: [String] = []
            var nested: [[String]] = []
            var ended = false
            for segment in segments {
                switch segment {
                case .name(let name) where !ended: names.append(name)
                case .name: break
                case .index(let expression):
                    ended = true
                    nested += expression.references
                }
            }
            return [names] + nested
        case .list(let items): return items.flatMap(\.references)
        case .filter(let base, _, let arguments): return base.references + arguments.flatMap(\.references)
        case .compare(let left, _, let right), .and(let left, let right), .or(let left, let right):
            return left.references + right.references
        case .not(let inner): return inner.references
        }
    }

    /// Filter names used anywhere in the expression.
    public var filterNames: [String] {
        switch self {
        case .literal, .path: return []
        case .list(let items): return items.flatMap(\.filterNames)
        case .filter(let base, let name, let arguments): return [name] + base.filterNames + arguments.flatMap(\.filterNames)
        case .compare(let left, _, let right), .and(let left, let right), .or(let left, let right):
            return left.filterNames + right.filterNames
        case .not(let inner): return inner.filterNames
        }
    }

    /// Whether the value is marked `| raw`: interpolated into a command without quoting.
    public var isRaw: Bool {
        if case .filter(_, "raw", _) = self { return true }
        return false
    }
}

public enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case `in` = "in"
    case notIn = "not in"
    case contains = "contains"
    case matches = "matches"
}

public struct ExpressionSyntaxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// Character offset inside the expression text.
    public var offset: Int
    public var description: String { message }
}

/// Parses expression text into an `Expression`.
public struct ExpressionParser {
    private enum Token: Equatable {
        case identifier(String)
        case string(String)
        case number(Double)
        case symbol(String)
        case end
    }

    private var tokens: [(Token, Int)] = []
    private var position = 0
    /// How deep the parser has nested: bounded, so a hostile expression is an error, not a crash.
    private var depth = 0

    /// Limits no real runbook comes near; past them an expression is refused with a clear error
    /// (fuzzed inputs with thousands of nested parentheses or filters crashed the process).
    static let maximumDepth = 48
    static let maximumTokens = 1_500

    public static func parse(_ text: String) throws -> Expression {
        var parser = ExpressionParser()
        parser.tokens = try tokenize(text)
        guard parser.tokens.count <= maximumTokens else {
            throw ExpressionSyntaxError(message: "the expression is too long (\(parser.tokens.count) parts, at most \(maximumTokens)): name its pieces with set: instead", offset: 0)
        }
        let expression = try parser.parseOr()
        guard parser.peek == .end else {
            throw ExpressionSyntaxError(message: "unexpected \(parser.describe(parser.peek)) in '\(text)'", offset: parser.offset)
        }
        return expression
    }

    private var peek: Token { tokens[position].0 }
    private var offset: Int { tokens[position].1 }

    private mutating func advance() -> Token {
        let token = tokens[position].0
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private mutating func expect(_ symbol: String) throws {
        guard peek == .symbol(symbol) else {
            throw ExpressionSyntaxError(message: "expected '\(symbol)' but found \(describe(peek))", offset: offset)
        }
        _ = advance()
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .identifier(let name): return "'\(name)'"
        case .string(let text): return "the string '\(text)'"
        case .number(let number): return "the number \(Value.number(number).text)"
        case .symbol(let symbol): return "'\(symbol)'"
        case .end: return "the end of the expression"
        }
    }

    private mutating func parseOr() throws -> Expression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ExpressionSyntaxError(message: "the expression nests too deeply (more than \(Self.maximumDepth) levels): name its pieces with set: instead", offset: offset)
        }
        var left = try parseAnd()
        while peek == .identifier("or") {
            _ = advance()
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws -> Expression {
        var left = try parseNot()
        while peek == .identifier("and") {
            _ = advance()
            left = .and(left, try parseNot())
        }
        return left
    }

    private mutating func parseNot() throws -> Expression {
        if peek == .identifier("not") {
            _ = advance()
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else {
                throw ExpressionSyntaxError(message: "the expression nests too deeply (more than \(Self.maximumDepth) levels of not)", offset: offset)
            }
            return .not(try parseNot())
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> Expression {
        let left = try parsePipe()
        let comparison: ComparisonOperator?
        switch peek {
        case .symbol(let symbol): comparison = ComparisonOperator(rawValue: symbol)
        case .identifier("not") where position + 1 < tokens.count && tokens[position + 1].0 == .identifier("in"):
            _ = advance()
            comparison = .notIn
        case .identifier(let word) where ["in", "contains", "matches"].contains(word): comparison = ComparisonOperator(rawValue: word)
        default: comparison = nil
        }
        guard let comparison else { return left }
        _ = advance()
        return .compare(left, comparison, try parsePipe())
    }

    private mutating func parsePipe() throws -> Expression {
        var base = try parsePrimary()
        while peek == .symbol("|") {
            _ = advance()
            guard case .identifier(let name) = advance() else {
                throw ExpressionSyntaxError(message: "expected a filter name after '|'", offset: offset)
            }
            var arguments: [Expression] = []
            if peek == .symbol("(") {
                _ = advance()
                if peek != .symbol(")") {
                    arguments.append(try parseOr())
                    while peek == .symbol(",") {
                        _ = advance()
                        arguments.append(try parseOr())
                    }
                }
                try expect(")")
            }
            base = .filter(base, name: name, arguments: arguments)
        }
        return base
    }

    private mutating func parsePrimary() throws -> Expression {
        let start = offset
        switch advance() {
        case .string(let text): return .literal(.string(text))
        case .number(let number): return .literal(.number(number))
        case .identifier("true"): return .literal(.bool(true))
        case .identifier("false"): return .literal(.bool(false))
        case .identifier("null"), .identifier("none"): return .literal(.null)
        case .identifier(let name):
            var segments: [Expression.PathSegment] = [.name(name)]
            while true {
                if peek == .symbol(".") {
                    _ = advance()
                    switch advance() {
                    case .identifier(let field): segments.append(.name(field))
                    case .number(let number) where number >= 0 && number.rounded() == number:
                        segments.append(.index(.literal(.number(number))))
                    default: throw ExpressionSyntaxError(message: "expected a name after '.'", offset: offset)
                    }
                } else if peek == .symbol("[") {
                    _ = advance()
                    segments.append(.index(try parseOr()))
                    try expect("]")
                } else {
                    break
                }
            }
            return .path(segments)
        case .symbol("("):
            let inner = try parseOr()
            try expect(")")
            return inner
        case .symbol("["):
            var items: [Expression] = []
            if peek != .symbol("]") {
                items.append(try parseOr())
                while peek == .symbol(",") {
                    _ = advance()
                    items.append(try parseOr())
                }
            }
            try expect("]")
            return .list(items)
        case let other:
            throw ExpressionSyntaxError(message: "expected a value, a name or '(' but found \(describe(other))", offset: start)
        }
    }

    private static func tokenize(_ text: String) throws -> [(Token, Int)] {
        var tokens: [(Token, Int)] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let start = index
            if character.isWhitespace {
                index += 1
            } else if character == "'" || character == "\"" {
                var literal = ""
                index += 1
                while index < characters.count, characters[index] != character {
                    if characters[index] == "\\", index + 1 < characters.count {
                        index += 1
                    }
                    literal.append(characters[index])
                    index += 1
                }
                guard index < characters.count else {
                    throw ExpressionSyntaxError(message: "a string starting with \(character) is not closed", offset: start)
                }
                index += 1
                tokens.append((.string(literal), start))
            } else if character.isASCIIDigit {
                // ASCII digits only: `٤` is a number to Unicode, not to Double (a fuzzed input trapped).
                var number = ""
                while index < characters.count, characters[index].isASCIIDigit || (characters[index] == "." && index + 1 < characters.count && characters[index + 1].isASCIIDigit) {
                    number.append(characters[index])
                    index += 1
                }
                guard let value = Double(number), value.isFinite else {
                    throw ExpressionSyntaxError(message: "\(number) is not a number drctl can use", offset: start)
                }
                tokens.append((.number(value), start))
            } else if character.isLetter || character == "_" {
                var name = ""
                // Step ids may hold dashes: `steps.find-vms.vms`.
                while index < characters.count, characters[index].isLetter || characters[index].isNumber || characters[index] == "_" || characters[index] == "-" {
                    name.append(characters[index])
                    index += 1
                }
                tokens.append((.identifier(name), start))
            } else {
                let pair = index + 1 < characters.count ? String([character, characters[index + 1]]) : ""
                if ["==", "!=", "<=", ">="].contains(pair) {
                    tokens.append((.symbol(pair), start))
                    index += 2
                } else if "<>.|()[],".contains(character) {
                    tokens.append((.symbol(String(character)), start))
                    index += 1
                } else {
                    throw ExpressionSyntaxError(message: "unexpected character '\(character)'", offset: start)
                }
            }
        }
        tokens.append((.end, characters.count))
        return tokens
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
