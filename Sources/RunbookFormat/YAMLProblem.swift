import Foundation

/// libyaml's wording names what the parser missed, not what the writer did wrong: these add the
/// usual cause and the fix.
enum YAMLProblem {
    static let meanings: [(problem: String, meaning: String)] = [
        ("did not find expected key", "a line is indented differently from the keys beside it, or a value needs quotes"),
        ("did not find expected '-' indicator", "a list item is indented differently from the items before it"),
        ("mapping values are not allowed in this context", "a value holds ': ' or a key is indented too far; quote the value or align the key"),
        ("found character that cannot start any token", "a tab used for indentation, or a value starting with @ or `; indent with spaces, quote the value"),
        ("could not find expected ':'", "a key without ':', or a quoted value that is not closed"),
        ("found unexpected end of stream", "a quote or bracket that is not closed"),
        ("did not find expected node content", "a list or mapping ends where a value was expected"),
        ("found unknown escape character", "in double quotes, write \\\\ for a backslash, or use single quotes"),
        ("did not find expected ',' or ']'", "a [list] that is not closed, or an item in it that needs quotes"),
        ("did not find expected ',' or '}'", "a { mapping } that is not closed, or a value in it that needs quotes"),
        ("control characters are not allowed", "remove it, or write it as an escape such as \\x01 inside double quotes"),
        ("invalid", "the file is not UTF-8 text; save it as UTF-8"),
        ("incomplete UTF-8", "the file is not UTF-8 text; save it as UTF-8"),
    ]

    static func meaning(of problem: String) -> String {
        guard let known = meanings.first(where: { problem.hasPrefix($0.problem) }) else { return "" }
        return " (\(known.meaning))"
    }

    /// Where `key` is written again after its first place: the line a reader has to change.
    static func repeatedKey(_ key: String, after first: SourceLocation, in text: String) -> SourceLocation? {
        guard !key.isEmpty else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        for index in (first.line - 1)..<lines.count {
            let line = lines[index]
            var searchFrom = line.startIndex
            // On the first key's own line, look only past it (a flow mapping: `{ a: 1, a: 2 }`).
            if index == first.line - 1 { searchFrom = line.index(line.startIndex, offsetBy: min(first.column, line.count)) }
            var rest = line[searchFrom...]
            while let found = rest.range(of: key) {
                let before = found.lowerBound == line.startIndex ? " " : line[line.index(before: found.lowerBound)]
                let after = line[found.upperBound...].drop { $0 == " " }
                if " \t{,-\"'".contains(before), after.first == ":" || after.hasPrefix("\":") || after.hasPrefix("':") {
                    return SourceLocation(file: first.file, line: index + 1, column: line.distance(from: line.startIndex, to: found.lowerBound) + 1)
                }
                rest = line[found.upperBound...]
            }
        }
        return nil
    }
}
