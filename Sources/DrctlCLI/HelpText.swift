/// Help texts are written wrapped in the source, for reading there; argument-parser wraps them
/// again to the terminal's width. Wrapped twice, a paragraph comes out ragged, so each paragraph's
/// lines are joined first, and the parser wraps once. Lines that start with blanks (examples,
/// tables) or with `- ` (list items) keep their own line.
enum HelpText {
    static func unwrapped(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let keepsItsLine = line.isEmpty || line.hasPrefix(" ") || line.hasPrefix("- ")
            if !keepsItsLine, let last = lines.last, !last.isEmpty, !last.hasPrefix(" "), !last.hasSuffix(":") {
                lines[lines.count - 1] = last + " " + line
            } else {
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }
}
