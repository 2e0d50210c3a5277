import ArgumentParser
import Foundation
import Journal

/// What the shell completes (`drctl --generate-completion-script bash|zsh|fish`): runbook,
/// inventory and scenario files, and run ids read from the runs directory at the moment TAB is
/// pressed (the one named by `--runs-dir` on the line, else the default), newest first.
enum Completion {
    static let yamlFile = CompletionKind.file(extensions: ["yaml", "yml"])

    static let runID = CompletionKind.custom { words, _, prefix in runIDs(words: words, prefix: prefix) }

    static func runIDs(words: [String], prefix: String) -> [String] {
        let flag = words.firstIndex(of: "--runs-dir").flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
        let directory = flag.map(unquoted) ?? defaultRunsDirectory
        return RecordedRun.all(in: directory).map(\.id).filter { $0.hasPrefix(prefix) }.sorted(by: >)
    }

    /// The shell passes words as typed: `'my runs'` or `my\ runs`.
    private static func unquoted(_ word: String) -> String {
        var text = word
        if text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first { text = String(text.dropFirst().dropLast()) }
        return text.replacingOccurrences(of: "\\ ", with: " ")
    }
}
