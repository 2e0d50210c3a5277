import DrctlCore

/// Text with `{{ expression }}` placeholders, as written in a runbook.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case text(String)
        case expression(Expression, source: String)
    }

    public var parts: [Part]
    public var source: String

    /// Parses a template; errors carry the character offset of the bad placeholder.
    public init(_ source: String) throws {
        self.source = source
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw ExpressionSyntaxError(message: "'{{' is not closed by '}}'", offset: source.distance(from: source.startIndex, to: open.lowerBound))
            }
            let inner = rest[open.upperBound..<close.lowerBound].trimmingBlanks()
            do {
                parts.append(.expression(try ExpressionParser.parse(inner), source: inner))
            } catch let error as ExpressionSyntaxError {
                // A long expression is shown by its start: the message stays one readable line.
                let shown = inner.count > 80 ? String(inner.prefix(80)) + "…" : String(inner)
                throw ExpressionSyntaxError(message: "in '{{ \(shown) }}': \(error.message)", offset: source.distance(from: source.startIndex, to: open.lowerBound))
            }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    public var description: String { source }

    public var expressions: [Expression] {
        parts.compactMap { if case .expression(let expression, _) = $0 { return expression } else { return nil } }
    }

    /// The single expression when the template is exactly `{{ expr }}` (so its value keeps its type).
    public var soleExpression: Expression? {
        if parts.count == 1, case .expression(let expression, _) = parts[0] { return expression }
        return nil
    }

    /// Evaluates to a typed value: a lone placeholder keeps its type, anything else is text.
    public func value(in scope: TemplateScope) throws -> Value {
        if let sole = soleExpression { return try ExpressionEvaluator.evaluate(sole, in: scope) }
        var text = ""
        var unknown = false
        for part in parts {
            switch part {
            case .text(let literal): text += literal
            case .expression(let expression, let source):
                let value = try ExpressionEvaluator.evaluate(expression, in: scope)
                if value.isUnknown { unknown = true; text += "{{ \(source) }}" } else { text += value.text }
            }
        }
        // Unknown text keeps its `{{ … }}` parts, so a plan shows exactly what is still open.
        return unknown ? .unknown(text) : .string(text)
    }

    /// Renders a shell command: every value is shell-quoted unless marked `| raw`; a list becomes
    /// one quoted word per entry. Values known only at run time stay as `{{ ... }}`.
    public func shellCommand(in scope: TemplateScope) throws -> RenderedCommand {
        var text = ""
        var complete = true
        for part in parts {
            switch part {
            case .text(let literal): text += literal
            case .expression(let expression, let source):
                let value = try ExpressionEvaluator.evaluate(expression, in: scope)
                if value.isUnknown {
                    complete = false
                    text += "{{ \(source) }}"
                } else if expression.isRaw {
                    text += value.text
                } else if let items = value.listValue {
                    text += ShellQuote.quote(items.map(\.text))
                } else {
                    text += ShellQuote.quote(value.text)
                }
            }
        }
        return RenderedCommand(text: text, isComplete: complete)
    }
}

/// A command ready to send, or, in a dry-run, one still holding placeholders.
public struct RenderedCommand: Sendable, Hashable {
    public var text: String
    /// False when some value is only known at run time.
    public var isComplete: Bool
}
