@preconcurrency import Rainbow
import Foundation

/// Colour for what people read on a terminal: never through a pipe, never with `NO_COLOR` set
/// (https://no-color.org) or `--no-color`. Colour only repeats what the words and symbols already
/// say (✓ ✗ !), for a reader who has none.
struct Style: Sendable {
    let coloured: Bool

    static let plain = Style(coloured: false)

    /// Rainbow's switches are process-wide: a coloured style turns them on (nothing is coloured
    /// without one).
    init(coloured: Bool) {
        self.coloured = coloured
        if coloured {
            Rainbow.enabled = true
            Rainbow.outputTarget = .console
        }
    }

    /// Decided once, as a command that prints a run starts.
    static func forConsole(noColorFlag: Bool) -> Style {
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return Style(coloured: !noColorFlag && !noColor && Console.shared.isTerminal)
    }

    func success(_ text: String) -> String { coloured ? text.green : text }
    func failure(_ text: String) -> String { coloured ? text.red.bold : text }
    func warning(_ text: String) -> String { coloured ? text.yellow : text }
    func question(_ text: String) -> String { coloured ? text.cyan.bold : text }
    func dim(_ text: String) -> String { coloured ? text.dim : text }
}
