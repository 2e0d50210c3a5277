import DrctlCore
import Foundation

// Everything the CLI shows goes through here, so no surface can forget: names and outputs from
// hosts, runbooks, inventories and scenarios are shown with their control characters made visible
// (`VisibleText`). The only escape sequences on screen are drctl's own: colour and the live status
// area, on a terminal only. This `print` shadows the standard library's inside this module on
// purpose; the simulator's `sim exec`, which plays a host's shell, writes raw bytes with
// FileHandle instead.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Console.shared.write(VisibleText.escape(items.map { "\($0)" }.joined(separator: separator)) + terminator)
}

/// What people read: standard output (standard error with `--events json`, which keeps standard
/// output for machines), written a whole line at a time and flushed at once, so a run piped into
/// `tee` shows each line as it happens. While a question is open its lines wait
/// (`TerminalPrompt`). On a terminal a status area (`LiveStatus`) stays under the lines: it is
/// erased before a line is written and drawn again after it, and it is not drawn while a question
/// is open.
final class Console: @unchecked Sendable {
    static let shared = Console()
    private let lock = NSLock()
    private var holding = false
    private var held: [String] = []
    /// Lines of the status area now on screen, under the cursor's line.
    private var footerLines = 0
    private var output: Int32 = STDOUT_FILENO
    private var outputIsTerminal = isatty(STDOUT_FILENO) == 1

    /// Human lines go to standard error from now on (`--events json` owns standard output).
    func sendHumanOutputToStandardError() {
        lock.withLock {
            output = STDERR_FILENO
            outputIsTerminal = isatty(STDERR_FILENO) == 1
        }
    }

    /// Whether people read these lines on a terminal: then colour and the status area are used.
    var isTerminal: Bool { lock.withLock { outputIsTerminal } }

    /// The terminal's width in columns (80 when it cannot be told).
    var columns: Int { windowSize.map { Int($0.ws_col) } ?? 80 }
    var rows: Int { windowSize.map { Int($0.ws_row) } ?? 24 }

    private var windowSize: winsize? {
        var size = winsize()
        let descriptor = lock.withLock { output }
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return size
    }

    func write(_ text: String) {
        lock.withLock {
            lastWrite = Date()
            if holding { held.append(text) } else { emitAboveFooter(text) }
        }
    }

    /// A line of a run's log. Through a pipe it starts with its UTC time, so a saved log tells
    /// when each thing happened; on a terminal the status area tells the time.
    func writeLogLine(_ text: String) {
        guard !isTerminal else { return write(text + "\n") }
        // Continuation lines are indented under the text; most lines have none (no NSString for them).
        let body = text.utf8.contains(UInt8(ascii: "\n"))
            ? text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + String(repeating: " ", count: 21)) : text
        write(Self.stamp(Date()) + " " + body + "\n")
    }

    /// `2026-12-01T19:52:30Z`.
    static func stamp(_ date: Date) -> String {
        Timestamp.seconds(from: date)
    }

    /// When a line was last written: heartbeats come only after a quiet spell.
    var lastLineWritten: Date { lock.withLock { lastWrite } }
    private var lastWrite = Date()

    /// A question's own text, written while the console is held.
    func writeHeld(_ text: String) {
        lock.withLock { emit(text) }
    }

    /// Standard error, kept clear of the status area when both are the same terminal.
    func writeError(_ text: String) {
        lock.withLock {
            eraseFooter()
            if Self.writeAll(text, to: STDERR_FILENO) == EPIPE { lose("standard error's reader went away") }
        }
    }

    // MARK: A lost console

    /// Why the console was lost (its reader went away, the terminal hung up), once it was.
    private(set) var lostBecause: String?
    /// Told once when the console is lost: the run records it and goes on.
    private var onLost: (@Sendable (String) -> Void)?

    /// What to do when the console is lost (journal it); called at once if it already was.
    func whenLost(_ action: @escaping @Sendable (String) -> Void) {
        let already = lock.withLock { () -> String? in
            onLost = action
            return lostBecause
        }
        if let already { action(already) }
    }

    /// The terminal hung up (SIGHUP) or a reader went away: nobody reads these lines any more.
    /// The run goes on; what it prints from now on is dropped (its journal has everything).
    func consoleLost(_ reason: String) {
        lock.withLock { lose(reason) }
    }

    private func lose(_ reason: String) {
        guard lostBecause == nil else { return }
        lostBecause = reason
        footerLines = 0
        output = -1
        onLost?(reason)
    }

    /// Writes all of `text`, as write(2) allows; the errno of a failed write, else 0. SIGPIPE is
    /// ignored (Interrupts), so a reader that went away is EPIPE here, never the end of the run.
    @discardableResult
    static func writeAll(_ text: String, to descriptor: Int32) -> Int32 {
        guard descriptor >= 0 else { return EBADF }
        return Data(text.utf8).withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue } else { return errno } }
                offset += written
            }
            return 0
        }
    }

    func hold() {
        lock.withLock {
            eraseFooter()
            holding = true
        }
    }

    /// Ends a dialog: what other work printed meanwhile appears now, in order.
    func release() {
        lock.withLock {
            holding = false
            held.forEach(emit)
            held = []
        }
    }

    /// Draws the status area under the lines, replacing the one drawn before; not while a
    /// question is open (it is drawn again after).
    func drawFooter(_ lines: [String]) {
        lock.withLock {
            // Unchanged (the clock shows whole seconds): nothing to write.
            guard lines != footer || footerLines == 0 else { return }
            footer = lines
            guard !holding else { return }
            eraseFooter()
            drawLastFooter()
        }
    }

    func clearFooter() {
        lock.withLock {
            footer = []
            eraseFooter()
        }
    }

    /// The status area's text, drawn again after each line until the next redraw changes it.
    private var footer: [String] = []

    private func emitAboveFooter(_ text: String) {
        guard footerLines > 0 else { return emit(text) }
        // Erased, the line written, drawn again: the area never scrolls up into the log.
        eraseFooter()
        emit(text)
        drawLastFooter()
    }

    private func drawLastFooter() {
        guard !footer.isEmpty else { return }
        emit(footer.joined(separator: "\n") + "\n")
        footerLines = footer.count
        footerWidths = footer.map(StatusLines.visibleWidth)
    }

    /// The widths of the status lines on screen: a terminal made narrower since wraps them onto
    /// more rows, which must all be erased or they stay in the scrollback.
    private var footerWidths: [Int] = []

    private func eraseFooter() {
        guard footerLines > 0 else { return }
        let width = max(1, windowSizeUnlocked.map { Int($0.ws_col) } ?? 80)
        let rows = footerWidths.isEmpty ? footerLines : Self.rows(widths: footerWidths, columns: width)
        // Up to the area's first row, then clear to the end of the screen.
        emit("\u{1B}[\(rows)F\u{1B}[J")
        footerLines = 0
        footerWidths = []
    }

    /// Rows lines of these widths take on a terminal this wide (a line wider than it wraps).
    static func rows(widths: [Int], columns: Int) -> Int {
        widths.reduce(0) { $0 + max(1, ($1 + max(1, columns) - 1) / max(1, columns)) }
    }

    /// The window's size, read with the lock already held.
    private var windowSizeUnlocked: winsize? {
        var size = winsize()
        guard ioctl(output, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return size
    }

    private func emit(_ text: String) {
        guard output >= 0 else { return }
        let failure = Self.writeAll(text, to: output)
        if failure == EPIPE || failure == EIO {
            lose(output == STDOUT_FILENO ? "standard output's reader went away" : "standard error's reader went away")
        }
    }
}

func writeToStandardError(_ text: String) {
    Console.shared.writeError(VisibleText.escape(text))
}
