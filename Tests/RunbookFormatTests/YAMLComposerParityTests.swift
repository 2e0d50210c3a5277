import DrctlCore
import Foundation
@testable import RunbookFormat
import Testing
import Yams

/// drctl's compact tree against the YAML library's, on every YAML file of the repository and on
/// generated documents: the same nodes at the same places, the same styles, the same booleans.
@Suite("YAML composer parity with Yams")
struct YAMLComposerParityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One line per node: its place, its kind, and for a scalar its style, boolean and text. A
    /// key's boolean is left out: drctl reads keys as text, and Yams, having hashed its keys to
    /// find duplicates, reads each as text from then on.
    func render(_ node: YAMLNode, _ out: inout [String], key: Bool = false) {
        switch node {
        case .scalar(let scalar):
            let boolean = key ? "-" : scalar.boolean.map(String.init) ?? "-"
            out.append("\(scalar.mark.line):\(scalar.mark.column) \(scalar.style == .plain ? "plain" : "written") \(boolean) \(scalar.string)")
        case .mapping(let mapping):
            out.append("\(mapping.mark.line):\(mapping.mark.column) {")
            for (key, value) in mapping { render(key, &out, key: true); render(value, &out) }
            out.append("}")
        case .sequence(let sequence):
            out.append("\(sequence.mark.line):\(sequence.mark.column) [")
            for item in sequence { render(item, &out) }
            out.append("]")
        }
    }

    func render(_ node: Yams.Node, _ out: inout [String], key: Bool = false) {
        let place = node.mark.map { "\($0.line):\($0.column)" } ?? "?"
        switch node {
        case .scalar(let scalar):
            let plain = scalar.style == .plain || scalar.style == .any
            let boolean = key ? "-" : Bool.construct(from: scalar).map(String.init) ?? "-"
            out.append("\(place) \(plain ? "plain" : "written") \(boolean) \(scalar.string)")
        case .mapping(let mapping):
            out.append("\(place) {")
            for (key, value) in mapping { render(key, &out, key: true); render(value, &out) }
            out.append("}")
        case .sequence(let sequence):
            out.append("\(place) [")
            for item in sequence { render(item, &out) }
            out.append("]")
        case .alias:
            out.append("\(place) alias")
        }
    }

    /// The first line where the two renderings differ, or nil when they agree.
    func firstDifference(_ both: (ours: [String]?, yams: [String]?)) -> String? {
        guard let ours = both.ours, let yams = both.yams else {
            return both.ours == nil && both.yams == nil ? nil : "one reader refuses the text: ours \(both.ours == nil ? "refuses" : "reads"), Yams \(both.yams == nil ? "refuses" : "reads")"
        }
        guard ours != yams else { return nil }
        let index = (0..<min(ours.count, yams.count)).first { ours[$0] != yams[$0] } ?? min(ours.count, yams.count)
        return "ours: \(index < ours.count ? ours[index] : "(end)") / Yams: \(index < yams.count ? yams[index] : "(end)")"
    }

    /// Each tree rendered, or nil where that reader refuses the text.
    func bothWays(_ text: String) -> (ours: [String]?, yams: [String]?) {
        var ours: [String] = [], yams: [String] = []
        do { if let node = try YAMLComposer.compose(text) { render(node, &ours) } } catch { return (nil, (try? Yams.compose(yaml: text, .basic)).map { _ in [] }) }
        do { if let node = try Yams.compose(yaml: text, .basic) { render(node, &yams) } } catch { return (ours, nil) }
        return (ours, yams)
    }

    @Test("every YAML file of the repository reads the same both ways")
    func repositoryFiles() throws {
        var files: [String] = []
        for directory in ["Runbooks", "Simulator", "bench", "Tests"] {
            let base = Self.root.appendingPathComponent(directory)
            for case let path as String in FileManager.default.enumerator(atPath: base.path) ?? FileManager.DirectoryEnumerator()
            where path.hasSuffix(".yaml") {
                files.append(base.appendingPathComponent(path).path)
            }
        }
        #expect(files.count > 20)
        for file in files {
            // A file of aliases inside aliases is refused before either reader sees it (Yams
            // would expand it while looking for duplicate keys).
            guard let text = try? String(contentsOfFile: file, encoding: .utf8), YAMLReader.aliasBeyondLimit(in: text) == nil else { continue }
            // A file meant not to parse (a fuzz finding, a bad example) is refused by both.
            let difference = firstDifference(bothWays(text))
            #expect(difference == nil, "\(file): \(difference ?? "")")
        }
    }

    @Test("generated documents read the same both ways: styles, booleans, anchors and aliases, places", arguments: 0..<200)
    func generated(seed: Int) {
        var generator = DocumentGenerator(random: SplitMix64(seed: UInt64(seed)))
        let text = generator.document()
        let both = bothWays(text)
        #expect(both.ours != nil, "\(text)")
        let difference = firstDifference(both)
        #expect(difference == nil, "\(difference ?? "")\n\(text)")
    }
}

/// Block YAML of mappings and lists, nested a few deep, with plain, quoted and block scalars
/// (words YAML 1.1 reads as booleans among them), flow collections, anchors and aliases.
struct DocumentGenerator {
    var random: SplitMix64
    var anchors: [String] = []
    let words = ["yes", "No", "ON", "off", "true", "False", "12", "1.5", "~", "null", "esx-01", "日本語 サーバ", "a b", "y", "0x1F"]

    init(random: SplitMix64) { self.random = random }

    mutating func document() -> String {
        "# generated\n" + mapping(indent: 0, depth: 0)
    }

    mutating func pick<T>(_ items: [T]) -> T { items[random.int(in: 0...(items.count - 1))] }

    mutating func scalar() -> String {
        let word = pick(words)
        switch random.int(in: 0...5) {
        case 0: return "'\(word)'"
        case 1: return "\"\(word)\\t\""
        case 2: return "!!str \(word)"
        default: return word
        }
    }

    mutating func flow() -> String {
        random.int(in: 0...1) == 0 ? "[\(scalar()), \(scalar())]" : "{k: \(scalar()), 'q': \(scalar())}"
    }

    /// What follows `key:` or `- `: inline, or a block on the lines below.
    mutating func value(indent: Int, depth: Int) -> String {
        let pad = String(repeating: " ", count: indent + 2)
        switch random.int(in: 0...(depth < 3 ? 7 : 4)) {
        case 0: return " " + flow()
        case 1: return " |\n\(pad)line one\n\(pad)\(pick(words))\n"
        case 2 where !anchors.isEmpty: return " *" + pick(anchors) + "\n"
        case 5, 6:
            // Named once the mapping is written: an alias inside its own anchor is undefined.
            let name = "a\(anchors.count)-\(indent)-\(random.next() % 1000)"
            let body = mapping(indent: indent + 2, depth: depth + 1)
            anchors.append(name)
            return " &\(name)\n" + body
        case 7: return "\n" + sequence(indent: indent + 2, depth: depth + 1)
        default: return " " + scalar() + "\n"
        }
    }

    mutating func mapping(indent: Int, depth: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var text = ""
        for index in 0..<random.int(in: 1...4) {
            let line = value(indent: indent, depth: depth)
            text += "\(pad)key\(index):" + (line.hasSuffix("\n") ? line : line + "\n")
        }
        return text
    }

    mutating func sequence(indent: Int, depth: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var text = ""
        for _ in 0..<random.int(in: 1...3) {
            let line = random.int(in: 0...2) == 0 ? "\n" + mapping(indent: indent + 2, depth: depth + 1) : " " + scalar() + "\n"
            text += "\(pad)-" + line
        }
        return text
    }
}
