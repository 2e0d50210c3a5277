/// Splits a command line the way BusyBox ash would, for the subset drctl and operators use:
/// quotes, `\` escapes, `;`, `&&`, `||`, `|`, a trailing `&`, and redirections of output.
struct ShellLine {
    enum Connector: String {
        case sequence = ";"
        case and = "&&"
        case or = "||"
    }

    struct Command {
        var words: [String]
        var mergeStderr = false
        var discardStdout = false
        var discardStderr = false
    }

    /// Pipelines joined by connectors; `connectors[i]` joins pipeline i and i+1.
    var pipelines: [[Command]]
    var connectors: [Connector]
    var background: Bool

    struct SyntaxError: Error {
        var message: String
    }

    static func parse(_ line: String) throws -> ShellLine {
        var pipelines: [[Command]] = []
        var connectors: [Connector] = []
        var pipeline: [Command] = []
        var command = Command(words: [])
        var word = ""
        var inWord = false
        var background = false
        let characters = Array(line)
        var index = 0

        func endWord() {
            if inWord {
                switch word {
                case "2>&1": command.mergeStderr = true
                case ">/dev/null", "1>/dev/null": command.discardStdout = true
                case "2>/dev/null": command.discardStderr = true
                default: command.words.append(word)
                }
            }
            word = ""
            inWord = false
        }
        func endCommand() {
            endWord()
            if !command.words.isEmpty { pipeline.append(command) }
            command = Command(words: [])
        }
        func endPipeline(_ connector: Connector?) {
            endCommand()
            if !pipeline.isEmpty { pipelines.append(pipeline) }
            pipeline = []
            if let connector, !pipelines.isEmpty { connectors.append(connector) }
        }

        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "'":
                inWord = true
                index += 1
                while index < characters.count, characters[index] != "'" {
                    word.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw SyntaxError(message: "unterminated quoted string") }
            case "\"":
                inWord = true
                index += 1
                while index < characters.count, characters[index] != "\"" {
                    if characters[index] == "\\", index + 1 < characters.count, "\"\\$`".contains(characters[index + 1]) { index += 1 }
                    word.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw SyntaxError(message: "unterminated quoted string") }
            case "\\":
                inWord = true
                if let next { word.append(next) }
                index += 1
            case " ", "\t", "\n":
                endWord()
            case ";":
                endPipeline(.sequence)
            case "&" where next == "&":
                endPipeline(.and)
                index += 1
            case "&" where inWord && word.hasSuffix(">") || (inWord && word == "2>"):
                word.append(character)
            case "&":
                background = true
                endPipeline(nil)
            case "|" where next == "|":
                endPipeline(.or)
                index += 1
            case "|":
                endCommand()
            default:
                inWord = true
                word.append(character)
            }
            index += 1
        }
        endPipeline(nil)
        if connectors.count >= pipelines.count { connectors = Array(connectors.prefix(max(0, pipelines.count - 1))) }
        return ShellLine(pipelines: pipelines, connectors: connectors, background: background)
    }
}
