import DrctlCore
/// A question a VM waits on, from `vim-cmd vmsvc/message <vmid>`.
public struct PendingQuestion: Sendable, Equatable {
    public struct Choice: Sendable, Equatable {
        public var index: Int
        /// The label with the hotkey underscore, as printed: `I _moved it`.
        public var label: String
        public var isDefault: Bool

        /// The label without hotkey marks, in lower case: `i moved it`.
        public var plainLabel: String { label.replacingOccurrences(of: "_", with: "").lowercased() }
    }

    /// The question id to pass back (`0` on 5.x, a number like `79900` later).
    public var id: String
    /// The message key, e.g. `msg.uuid.altered`.
    public var key: String
    public var text: String
    public var choices: [Choice]

    public var isUUIDAltered: Bool { key == "msg.uuid.altered" }

    /// The choice whose label says `moved` or `copied`; never a hard-coded index.
    public func choice(answering answer: UUIDAlteredAnswer) -> Choice? {
        choices.first { $0.plainLabel.contains(answer.rawValue) }
    }
}

/// How to answer `msg.uuid.altered`: "moved" keeps the VM's UUID and MAC addresses (the usual DR
/// answer), "copied" generates new ones.
public enum UUIDAlteredAnswer: String, Sendable, CaseIterable {
    case moved
    case copied
}

public enum QuestionParser {
    /// Reads `vmsvc/message`. Returns nil when no question is pending.
    public static func parse(_ output: String) -> PendingQuestion? {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.trimmingTrailingCarriageReturn) }
        guard let headerIndex = lines.firstIndex(where: { $0.hasPrefix("Virtual machine message ") }) else { return nil }
        let header = lines[headerIndex]
        let id = header.dropFirst("Virtual machine message ".count).trimmingCharacters(in: CharacterSet(charactersIn: ": "))
        var key = ""
        var text: [String] = []
        var choices: [PendingQuestion.Choice] = []
        for line in lines[(headerIndex + 1)...] {
            if let choice = parseChoice(line) {
                choices.append(choice)
            } else if key.isEmpty, let colon = line.firstIndex(of: ":"), line.hasPrefix("msg.") {
                key = String(line[..<colon])
                text.append(String(line[line.index(after: colon)...]))
            } else if choices.isEmpty {
                text.append(line)
            }
        }
        return PendingQuestion(id: id, key: key, text: text.joined(separator: "\n").trimmingWhitespace(), choices: choices)
    }

    // Regex is immutable once built; Swift just does not mark it Sendable.
    nonisolated(unsafe) private static let choiceLine = try! Regex(#"^(\d+)\. (.*?) \((.*)\)( \[default\])?\s*$"#)

    /// Longer lines are no choice ESXi prints; the regex would take quadratic time on them (a fuzzed 100 KB line hung).
    static let longestLine = 1_024

    static func parseChoice(_ line: String) -> PendingQuestion.Choice? {
        guard line.utf8.count <= longestLine, line.first?.isNumber == true, let match = try? choiceLine.wholeMatch(in: line),
              let index = match.output[1].substring.flatMap({ Int($0) }),
              let label = match.output[2].substring else { return nil }
        return PendingQuestion.Choice(index: index, label: String(label), isDefault: match.output[4].substring != nil)
    }
}

import Foundation
