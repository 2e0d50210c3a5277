import Engine
import Foundation
import Journal

/// `--events json`: each event as a JSON line on standard output, written whole and in order.
actor EventStream: RunObserver {
    private let run: String
    private let redactor: Redactor

    init(run: String, redactor: Redactor) {
        self.run = run
        self.redactor = redactor
    }

    /// The reader went away (a dashboard died): the run goes on, its journal keeps every event.
    private var readerGone = false

    func record(_ event: RunEvent) async {
        guard !readerGone else { return }
        if Console.writeAll(String(decoding: EventJSON.line(for: event, run: run, redactor: redactor), as: UTF8.self), to: STDOUT_FILENO) == EPIPE {
            readerGone = true
            Console.shared.consoleLost("the reader of --events json went away")
        }
    }
}
