import DrctlCore
@testable import RunbookFormat
import Testing

/// drctl's own YAML tree reads a file as the YAML library's did: scalars by style and tag,
/// anchors and aliases, one document, and every problem at its line and column.
@Suite("YAML composer")
struct YAMLComposerTests {
    func read(_ yaml: String) -> (value: Value?, problems: [String]) {
        let reader = YAMLReader(file: "f.yaml")
        let node = reader.compose(yaml)
        return (node.map(reader.value), reader.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" })
    }

    @Test("plain scalars read as booleans, numbers and null; quoted, block and !!str ones stay text")
    func scalarsByStyleAndTag() {
        let yaml = """
            a: yes
            b: 'yes'
            c: !!str on
            d: !!bool Off
            e: 12
            f: "12"
            g: 1.5
            h: ~
            i: |
              true
            j: TRUE
            """
        #expect(read(yaml).value == ["a": true, "b": "yes", "c": "on", "d": false, "e": 12, "f": "12", "g": .number(1.5), "h": .null, "i": "true\n", "j": true])
    }

    @Test("an alias stands for what its anchor holds, mappings and lists alike, in file order")
    func aliases() {
        let value = read("base: &b {host: esx-1, tags: &t [a, b]}\ncopy: *b\ntags: *t\nlist: [x, y, z]\n").value
        #expect(value?["copy"] == ["host": "esx-1", "tags": ["a", "b"]])
        #expect(value?["tags"] == ["a", "b"])
        #expect(value?["list"] == ["x", "y", "z"])
    }

    @Test("places are lines and columns from 1, for scalars, lists and mappings")
    func marks() throws {
        let node = try #require(YAMLReader(file: "f.yaml").compose("hosts:\n  - name: esx-1\n    port: 22\n"))
        guard case .mapping(let root) = node, case .sequence(let hosts) = try #require(root["hosts"]),
              case .mapping(let host) = hosts[0] else { Issue.record("not a mapping of a list of mappings"); return }
        #expect(hosts.mark == YAMLNode.Mark(line: 2, column: 3))
        #expect(host["port"]?.mark == YAMLNode.Mark(line: 3, column: 11))
        #expect(host.pairs.map(\.key.string) == ["name", "port"])
    }

    @Test("refused: an undefined alias, a second document, a control character, an empty file")
    func refusals() {
        #expect(read("a: *nowhere\n").problems == ["1:4: YAML syntax error: found undefined alias"])
        #expect(read("a: 1\n---\nb: 2\n").problems == ["2:1: YAML syntax error: but found another document"])
        #expect(read("a: 1\nb: x\u{07}y\n").problems == ["2:5: YAML error: control characters are not allowed (remove it, or write it as an escape such as \\x01 inside double quotes)"])
        #expect(read("# nothing but a comment\n").problems == ["1:1: the file is empty"])
    }
}
