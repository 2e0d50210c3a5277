import DrctlCore
/// Parsers for the three layouts esxcli prints: dash-rule tables, record lists and key/value blocks.
public enum EsxcliTable {
    /// Parses a table whose header is followed by a rule of dashes (`----  ---`).
    ///
    /// Columns are cut by the dash runs, not by whitespace: values may hold blanks, and numeric
    /// columns are right-aligned (header included). Returns one dictionary per row, keyed by header.
    public static func parse(_ output: String) throws -> [[String: String]] {
        try memo.value(of: output, parseText)
    }

    private static let memo = ParseMemo<[[String: String]]>()

    private static func parseText(_ output: String) throws -> [[String: String]] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.trimmingTrailingCarriageReturn) }
        guard let ruleIndex = lines.firstIndex(where: isRule), ruleIndex > 0 else {
            throw ESXiParseError.unexpectedOutput(expected: "an esxcli table with a dash rule under its header", output: output)
        }
        let columns = columnRanges(lines[ruleIndex])
        let headerLine = Array(lines[ruleIndex - 1])
        let headers = columns.enumerated().map { index, range in
            slice(headerLine, range, isLast: index == columns.count - 1)
        }
        var rows: [[String: String]] = []
        for line in lines[(ruleIndex + 1)...] where !line.trimmingBlanks().isEmpty {
            let characters = Array(line)
            var row: [String: String] = [:]
            for (index, range) in columns.enumerated() {
                row[headers[index]] = slice(characters, range, isLast: index == columns.count - 1)
            }
            rows.append(row)
        }
        return rows
    }

    static func isRule(_ line: String) -> Bool {
        let trimmed = line.trimmingBlanks()
        return !trimmed.isEmpty && trimmed.allSatisfy { $0 == "-" || $0 == " " } && trimmed.contains("-")
    }

    /// Character offsets of each run of dashes.
    static func columnRanges(_ rule: String) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start: Int?
        for (offset, character) in rule.enumerated() {
            if character == "-" {
                if start == nil { start = offset }
            } else if let begin = start {
                ranges.append(begin..<offset)
                start = nil
            }
        }
        if let begin = start { ranges.append(begin..<rule.count) }
        return ranges
    }

    static func slice(_ characters: [Character], _ range: Range<Int>, isLast: Bool) -> String {
        guard range.lowerBound < characters.count else { return "" }
        let upper = isLast ? characters.count : min(range.upperBound, characters.count)
        return Substring(characters[range.lowerBound..<upper]).trimmingBlanks()
    }
}

/// An esxcli record: a key line in column 0, then indented `Field: value` lines.
public struct EsxcliRecord: Sendable, Equatable {
    public var key: String
    public var fields: [String: String]

    public init(key: String, fields: [String: String]) {
        self.key = key
        self.fields = fields
    }

    public subscript(field: String) -> String? { fields[field] }
}

public enum EsxcliRecords {
    /// Parses record lists such as `storage core path list` or `storage vmfs snapshot list`.
    /// A repeated command line (some pastes echo it) or a line without a colon in column 0 starts a record.
    /// Output with nothing in it is no records; output with text but no record in it (an error
    /// message, CSV, XML, lines that all start at column 0) is refused, never read as "nothing":
    /// an empty snapshot list would send a recovery down the wrong branch.
    public static func parse(_ output: String) throws -> [EsxcliRecord] {
        let records = memo.value(of: output, parseText)
        if records.isEmpty, output.contains(where: { !$0.isWhitespace }) {
            throw ESXiParseError.unexpectedOutput(expected: "esxcli records (a name at the start of a line, then indented 'Field: value' lines)",
                                                  output: output)
        }
        return records
    }

    private static let memo = ParseMemo<[EsxcliRecord]>()

    private static func parseText(_ output: String) -> [EsxcliRecord] {
        var records: [EsxcliRecord] = []
        for rawLine in output.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(rawLine.trimmingTrailingCarriageReturn)
            if line.trimmingBlanks().isEmpty { continue }
            if line.first == " " || line.first == "\t" {
                guard !records.isEmpty, let (name, value) = splitField(line) else { continue }
                records[records.count - 1].fields[name] = value
            } else {
                var key = line.trimmingBlanks()
                if key.hasSuffix(":") { key.removeLast() }
                records.append(EsxcliRecord(key: key, fields: [:]))
            }
        }
        return records.filter { !$0.fields.isEmpty }
    }

    /// Parses a single key/value block such as `system version get`, indented or not.
    public static func parseFields(_ output: String) -> [String: String] {
        var fields: [String: String] = [:]
        for rawLine in output.split(separator: "\n") {
            if let (name, value) = splitField(String(rawLine.trimmingTrailingCarriageReturn)) { fields[name] = value }
        }
        return fields
    }

    static func splitField(_ line: String) -> (String, String)? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let name = line[..<colon].trimmingBlanks()
        guard !name.isEmpty else { return nil }
        let value = line[line.index(after: colon)...].trimmingBlanks()
        return (name, value)
    }
}

extension Substring {
    var trimmingTrailingCarriageReturn: Substring {
        last == "\r" ? dropLast() : self
    }
}

import Foundation
