import DrctlCore
import Foundation

// Everything the CLI shows goes through here, so no surface can forget: names and outputs from
// hosts, runbooks, inventories and scenarios are shown with their control characters made visible
// (`VisibleText`). drctl writes no escape sequences of its own. This `print` shadows the standard
// library's inside this module on purpose; the simulator's `sim exec`, which plays a host's shell,
// writes raw bytes with FileHandle instead.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Console.shared.write(VisibleText.escape(items.map { "\($0)" }.joined(separator: separator)) + terminator)
}

/// Standard output, written a whole line at a time and flushed at once (a run piped into `tee`
/// shows each line as it happens). While a question is open its lines wait (`TerminalPrompt`).
final class Console: @unchecked Sendable {
    static let shared = Console()
    private let lock = NSLock()
    private var holding = false
    private var held: [String] = []

    func write(_ text: String) {
        lock.withLock {
            if holding { held.append(text) } else { emit(text) }
        }
    }

    /// A question's own text, written while the console is held.
    func writeHeld(_ text: String) {
        lock.withLock { emit(text) }
    }

    func hold() {
        lock.withLock { holding = true }
    }

    /// Ends a dialog: what other work printed meanwhile appears now, in order.
    func release() {
        lock.withLock {
            holding = false
            held.forEach(emit)
            held = []
        }
    }

    private func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

func writeToStandardError(_ text: String) {
    FileHandle.standardError.write(Data(VisibleText.escape(text).utf8))
}
