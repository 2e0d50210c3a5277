import Foundation

/// A place in a YAML file: 1-based line and column.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in an input file, printed as `file:line:col: message`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Thrown when an input file has problems; carries every one found, in file order.
public struct InvalidInput: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics.sorted { ($0.location.file, $0.location.line, $0.location.column) < ($1.location.file, $1.location.line, $1.location.column) }
    }

    public init(_ location: SourceLocation, _ message: String) {
        self.init([Diagnostic(location, message)])
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// "did you mean" suggestions by edit distance.
public enum Suggestion {
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    /// ` (did you mean 'x'?)`, or nothing.
    public static func hint(for word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Reads an input file (runbook, inventory, scenario), or fails as invalid input naming it.
public func readInputFile(_ path: String, what: String) throws -> String {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw InvalidInput(SourceLocation(file: path, line: 1, column: 1), "cannot read the \(what): \(error.localizedDescription)")
    }
    if let text = String(validating: data, as: UTF8.self) { return text }
    let (offset, location) = firstInvalidUTF8(data, file: path)
    throw InvalidInput(location, "the \(what) is not UTF-8 text: the byte at offset \(offset) (0x\(String(data[data.startIndex + offset], radix: 16))) is not valid UTF-8; save the file as UTF-8")
}

/// The offset of the first byte that is not part of valid UTF-8, and where it is as line:col.
func firstInvalidUTF8(_ data: Data, file: String) -> (offset: Int, location: SourceLocation) {
    var decoder = UTF8()
    var iterator = data.makeIterator()
    var offset = 0, line = 1, column = 1
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar):
            offset += UTF8.width(scalar)
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        case .emptyInput:
            return (max(0, data.count - 1), SourceLocation(file: file, line: line, column: column))
        case .error:
            return (min(offset, data.count - 1), SourceLocation(file: file, line: line, column: column))
        }
    }
}
