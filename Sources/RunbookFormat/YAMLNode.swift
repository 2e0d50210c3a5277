/// A YAML document as drctl reads it: scalars with their text, style and place, lists and
/// mappings (pairs in file order). Aliases are already replaced by what their anchor holds.
///
/// drctl's own, rather than the YAML library's tree, because of size: that tree gives every
/// node a class instance for its tag, and a 10,000-VM inventory (2 MB of text) became 30 MB of
/// nodes. Here a node is a few words inline, a short string needs no allocation, and a mapping
/// is one array.
public enum YAMLNode: Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)

    /// Where a node starts, from 1.
    public struct Mark: Sendable, Equatable {
        public var line: Int
        /// In Unicode scalars, as libyaml counts them.
        public var column: Int
    }

    public struct Scalar: Sendable {
        /// How the scalar was written; a plain one may read as a number or a boolean.
        public enum Style: Sendable {
            case plain, singleQuoted, doubleQuoted, literal, folded
        }

        /// What its tag says of its type: none (`.implicit`, a plain scalar), text (quoted, a
        /// block, or `!!str`), or another tag (`!!bool`, `!custom`).
        public enum Tag: Sendable, Equatable {
            case implicit, text, other
        }

        public var string: String
        public var style: Style
        public var tag: Tag
        public var mark: Mark
    }

    public struct Mapping: Sendable, RandomAccessCollection {
        public var pairs: [(key: YAMLNode, value: YAMLNode)]
        public var mark: Mark

        public var startIndex: Int { pairs.startIndex }
        public var endIndex: Int { pairs.endIndex }
        public subscript(position: Int) -> (key: YAMLNode, value: YAMLNode) { pairs[position] }

        /// The value of the first text key equal to `key`.
        public subscript(key: String) -> YAMLNode? {
            pairs.first { $0.key.string == key }?.value
        }
    }

    public struct Sequence: Sendable, RandomAccessCollection {
        public var items: [YAMLNode]
        public var mark: Mark

        public var startIndex: Int { items.startIndex }
        public var endIndex: Int { items.endIndex }
        public subscript(position: Int) -> YAMLNode { items[position] }
    }

    /// The text of a scalar; nil for a list or a mapping.
    public var string: String? {
        if case .scalar(let scalar) = self { return scalar.string }
        return nil
    }

    public var mark: Mark {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(let mapping): mapping.mark
        case .sequence(let sequence): sequence.mark
        }
    }
}

extension YAMLNode.Scalar {
    /// YAML 1.1's booleans (true/false, yes/no, on/off, any case), read only from a scalar that
    /// is not text by its tag: `'yes'` stays the word.
    public var boolean: Bool? {
        guard tag != .text else { return nil }
        switch string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }
}
