/// Output that a parser could not read. Carries the output so an operator sees what ESXi said.
public enum ESXiParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case unexpectedOutput(expected: String, output: String)

    public var description: String {
        switch self {
        case .unexpectedOutput(let expected, let output):
            let shown = output.count > 400 ? String(output.prefix(400)) + "…" : output
            return "expected \(expected), but ESXi printed:\n\(shown.isEmpty ? "(nothing)" : shown)"
        }
    }
}
