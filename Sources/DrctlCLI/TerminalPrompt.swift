import DrctlCore
import Foundation

/// Questions to the person at the terminal. A dialog (a question and its follow-ups, such as the
/// reason for a denial) holds the console: lines other work prints meanwhile wait and appear after
/// it, so nothing overwrites a question, and two approvals due together are asked one after the
/// other. Reading runs on a thread of its own, never on Swift's cooperative pool, and stops at
/// Ctrl-C or the end of input: then every question gives no answer (nil), so no decision is made
/// for the person.
final class TerminalPrompt: @unchecked Sendable {
    static let shared = TerminalPrompt()

    private let dialogs = NSLock()
    private let state = NSLock()
    private var interrupted = false
    private var pending = Data()
    private let wake: (read: Int32, write: Int32)

    private init() {
        var descriptors: [Int32] = [0, 0]
        pipe(&descriptors)
        wake = (descriptors[0], descriptors[1])
        _ = fcntl(wake.read, F_SETFL, O_NONBLOCK)
    }

    /// One dialog's cancellation: the question was answered elsewhere (`drctl approve`).
    final class Token: @unchecked Sendable {
        private let lock = NSLock()
        private var cancelled = false
        var isCancelled: Bool { lock.withLock { cancelled } }
        func cancel() { lock.withLock { cancelled = true } }
    }

    /// Ctrl-C: the open question, and every later one, gives no answer.
    func interrupt() {
        state.withLock { interrupted = true }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// Runs `dialog` with the console held, off the cooperative pool; `ask` inside it asks one
    /// question. Cancelling the task ends the dialog: its questions give no answer.
    func dialog<T: Sendable>(_ dialog: @escaping @Sendable (_ ask: (String) -> String?) -> T) async -> T {
        let token = Token()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                Thread { [self] in
                    // Waits its turn; but a dialog answered elsewhere (cancelled) or interrupted while
                    // waiting ends at once, without waiting for the question on screen to be answered.
                    while !dialogs.try() {
                        if token.isCancelled || state.withLock({ interrupted }) {
                            continuation.resume(returning: dialog { _ in nil })
                            return
                        }
                        usleep(20_000)
                    }
                    Console.shared.hold()
                    let result = dialog { question in self.ask(question, token) }
                    Console.shared.release()
                    dialogs.unlock()
                    continuation.resume(returning: result)
                }.start()
            }
        } onCancel: {
            token.cancel()
            var byte: UInt8 = 1
            _ = write(wake.write, &byte, 1)
        }
    }

    /// One line from standard input, without its newline; nil at Ctrl-C, the end of input, or when
    /// the dialog is cancelled.
    private func ask(_ question: String, _ token: Token) -> String? {
        if state.withLock({ interrupted }) || token.isCancelled { return nil }
        Console.shared.writeHeld(VisibleText.escape(question))
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = Data(pending[(newline + 1)...])
                return line.trimmingWhitespace()
            }
            var descriptors = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            guard poll(&descriptors, 2, -1) >= 0 || errno == EINTR else { return nil }
            if descriptors[1].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wake.read, &drain, drain.count) > 0 {}
            }
            if state.withLock({ interrupted }) || token.isCancelled {
                Console.shared.writeHeld("\n")
                return nil
            }
            guard descriptors[0].revents != 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            guard count > 0 else {
                // End of input: nobody is left to answer.
                state.withLock { interrupted = true }
                Console.shared.writeHeld("\n")
                return nil
            }
            pending.append(contentsOf: buffer[0..<count])
        }
    }
}
