import DrctlCore
import ESXi
import Foundation
import RunbookFormat

enum CaptureReader {
    static func read(_ capture: Capture, from output: String) throws -> Value {
        switch capture.source {
        case .lines:
            return .list(output.split(separator: "\n").map { .string($0.trimmingBlanks()) }.filter { !$0.text.isEmpty })
        case .parser(let name):
            guard let parser = OutputParsers.all[name] else { throw EvaluationError("unknown parser \(name)") }
            do {
                return try parser(output)
            } catch {
                throw EvaluationError("capture \(capture.name) (parser \(name)): \(error)")
            }
        case .regex(let pattern, let group, let all):
            let regex = try Regex(pattern).anchorsMatchLineEndings()
            let matches = output.matches(of: regex)
            func text(_ match: Regex<AnyRegexOutput>.Match) -> Value {
                guard group < match.output.count, let substring = match.output[group].substring else { return .null }
                return .string(String(substring))
            }
            if all { return .list(matches.map(text)) }
            guard let first = matches.first else {
                throw EvaluationError("capture \(capture.name): /\(pattern)/ matched nothing in the output")
            }
            return text(first)
        }
    }
}

enum ExpectationCheck {
    /// What is wrong with a command's result, or nil when it meets the expectation.
    static func problem(_ expectation: Expectation, output: ShellOutput, outputs: [String: Value], scope: DictionaryScope) throws -> String? {
        if !expectation.exitStatuses.contains(output.exitStatus) {
            let wanted = expectation.exitStatuses.map(String.init).joined(separator: " or ")
            return "exit status \(output.exitStatus), expected \(wanted)" + excerpt(output)
        }
        for text in expectation.stdoutContains where !output.stdout.contains(text) {
            return "the output does not contain '\(text)'" + excerpt(output)
        }
        for text in expectation.stdoutNotContains where output.stdout.contains(text) {
            return "the output contains '\(text)'" + excerpt(output)
        }
        if let pattern = expectation.stdoutMatches, try Regex(pattern).firstMatch(in: output.stdout) == nil {
            return "the output does not match /\(pattern)/" + excerpt(output)
        }
        if expectation.stderrEmpty, !output.stderr.isEmpty {
            return "stderr is not empty: \(output.stderr.prefix(200))"
        }
        if let that = expectation.that {
            var roots = scope.roots
            roots["result"] = .map(outputs)
            if try ExpressionEvaluator.condition(that.expression, in: DictionaryScope(roots)) != true {
                return expectation.message ?? ("'\(that.source)' does not hold" + excerpt(output))
            }
        }
        return nil
    }

    /// For typed actions: only `that` applies (their output is already checked and typed).
    static func problem(_ expectation: Expectation, outputs: [String: Value], scope: DictionaryScope) throws -> String? {
        guard let that = expectation.that else { return nil }
        var roots = scope.roots
        roots["result"] = .map(outputs)
        if try ExpressionEvaluator.condition(that.expression, in: DictionaryScope(roots)) == true { return nil }
        return expectation.message ?? "'\(that.source)' does not hold (\(outputs.keys.sorted().map { "\($0)=\(outputs[$0]!.text)" }.joined(separator: ", ")))"
    }

    private static func excerpt(_ output: ShellOutput) -> String {
        let text = output.combined.trimmingWhitespace()
        if text.isEmpty { return "" }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return ": " + (lines.count > 6 ? lines.suffix(6).joined(separator: "\n") : text)
    }
}
