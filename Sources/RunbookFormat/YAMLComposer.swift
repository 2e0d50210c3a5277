// libyaml, as Yams builds it: its C target is importable from any target that depends on Yams.
import CYaml

/// Builds a `YAMLNode` tree from libyaml's parse events: one document, aliases replaced by what
/// their anchor holds, duplicate keys refused. The YAML library's own tree would be several times
/// the memory (see `YAMLNode`); its parser, and so its error messages, are the same.
enum YAMLComposer {
    enum Problem: Error {
        /// libyaml could not read, scan or parse the text, or an alias names no anchor.
        case syntax(String, YAMLNode.Mark)
        /// Bytes that are not text (a control character, broken UTF-8).
        case unreadable(String, YAMLNode.Mark)
        /// Keys written twice in one mapping, sorted, and where the first of them is first written.
        case duplicateKeys([String], first: YAMLNode.Mark)
        case outOfMemory
    }

    /// The single document in `text`, or nil when it holds none. Throws a `Problem`.
    static func compose(_ text: String) throws -> YAMLNode? {
        // A byte-order mark, as some Windows editors write: YAML allows it, and it is no content.
        var text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        return try text.withUTF8 { bytes in
            let events = EventReader(bytes)
            defer { events.close() }
            return try events.document(in: bytes)
        }
    }

    /// Reads events one at a time; each is freed before the next.
    private final class EventReader {
        private let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        private var event = yaml_event_t()
        private var anchors: [String: YAMLNode] = [:]

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            yaml_parser_initialize(parser)
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(parser, bytes.baseAddress, bytes.count)
        }

        func close() {
            yaml_event_delete(&event)
            yaml_parser_delete(parser)
            parser.deallocate()
        }

        func document(in bytes: UnsafeBufferPointer<UInt8>) throws -> YAMLNode? {
            try next(bytes)  // stream start
            guard try next(bytes) == YAML_DOCUMENT_START_EVENT else { return nil }  // else the stream ends: no document
            try next(bytes)
            let root = try node(bytes)
            try next(bytes)  // document end
            if try next(bytes) != YAML_STREAM_END_EVENT {
                throw Problem.syntax("but found another document", mark(event.start_mark))
            }
            return root
        }

        /// Parses the next event into `event`, freeing the one before.
        @discardableResult
        private func next(_ bytes: UnsafeBufferPointer<UInt8>) throws -> yaml_event_type_t {
            yaml_event_delete(&event)
            guard yaml_parser_parse(parser, &event) == 1 else { throw problem(bytes) }
            return event.type
        }

        /// The node that starts at the current event; on return, `event` is its last.
        private func node(_ bytes: UnsafeBufferPointer<UInt8>) throws -> YAMLNode {
            let start = mark(event.start_mark)
            switch event.type {
            case YAML_ALIAS_EVENT:
                let name = String(cString: event.data.alias.anchor)
                guard let anchored = anchors[name] else { throw Problem.syntax("found undefined alias", start) }
                return anchored
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let node = YAMLNode.scalar(YAMLNode.Scalar(
                    string: String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self),
                    style: style(scalar.style), tag: tag(scalar.tag, quotedImplicit: scalar.quoted_implicit == 1), mark: start))
                anchor(scalar.anchor, node)
                return node
            case YAML_SEQUENCE_START_EVENT:
                let name = event.data.sequence_start.anchor.map { String(cString: $0) }
                var items: [YAMLNode] = []
                while try next(bytes) != YAML_SEQUENCE_END_EVENT { items.append(try node(bytes)) }
                let node = YAMLNode.sequence(YAMLNode.Sequence(items: items, mark: start))
                if let name { anchors[name] = node }
                return node
            case YAML_MAPPING_START_EVENT:
                let name = event.data.mapping_start.anchor.map { String(cString: $0) }
                var pairs: [(key: YAMLNode, value: YAMLNode)] = []
                var keys = Set<String>()
                var repeated = false
                while try next(bytes) != YAML_MAPPING_END_EVENT {
                    let key = try node(bytes)
                    try next(bytes)
                    pairs.append((key, try node(bytes)))
                    if let text = key.string, !keys.insert(text).inserted { repeated = true }
                }
                if repeated { throw duplicates(pairs) }
                let node = YAMLNode.mapping(YAMLNode.Mapping(pairs: pairs, mark: start))
                if let name { anchors[name] = node }
                return node
            default:
                throw Problem.syntax("did not find expected node content", start)
            }
        }

        private func anchor(_ name: UnsafeMutablePointer<yaml_char_t>?, _ node: YAMLNode) {
            if let name { anchors[String(cString: name)] = node }
        }

        /// The keys written more than once, sorted, and where the first of them is first written.
        private func duplicates(_ pairs: [(key: YAMLNode, value: YAMLNode)]) -> Problem {
            var count: [String: Int] = [:]
            for pair in pairs { if let text = pair.key.string { count[text, default: 0] += 1 } }
            let repeated = count.filter { $0.value > 1 }.keys.sorted()
            let first = pairs.first { $0.key.string == repeated[0] }!.key.mark
            return .duplicateKeys(repeated, first: first)
        }

        private func problem(_ bytes: UnsafeBufferPointer<UInt8>) -> Problem {
            let parser = parser.pointee
            let text = parser.problem.map { String(cString: $0) } ?? "unknown problem"
            switch parser.error {
            case YAML_MEMORY_ERROR: return .outOfMemory
            case YAML_READER_ERROR: return .unreadable(text, Self.mark(ofOffset: Int(parser.problem_offset), in: bytes))
            default: return .syntax(text, mark(parser.problem_mark))
            }
        }

        private func mark(_ mark: yaml_mark_t) -> YAMLNode.Mark {
            YAMLNode.Mark(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        }

        /// A reader error gives a byte offset only.
        private static func mark(ofOffset offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> YAMLNode.Mark {
            let before = bytes.prefix(min(offset, bytes.count))
            let lineStart = (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
            let column = String(decoding: before[lineStart...], as: UTF8.self).unicodeScalars.count
            return YAMLNode.Mark(line: before.count { $0 == UInt8(ascii: "\n") } + 1, column: column + 1)
        }

        private func style(_ style: yaml_scalar_style_t) -> YAMLNode.Scalar.Style {
            switch style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: .literal
            case YAML_FOLDED_SCALAR_STYLE: .folded
            default: .plain
            }
        }

        private func tag(_ name: UnsafeMutablePointer<yaml_char_t>?, quotedImplicit: Bool) -> YAMLNode.Scalar.Tag {
            if quotedImplicit { return .text }
            guard let name else { return .implicit }
            return String(cString: name) == "tag:yaml.org,2002:str" ? .text : .other
        }
    }
}
