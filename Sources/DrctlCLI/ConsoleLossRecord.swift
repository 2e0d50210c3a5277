import Foundation
import Journal

/// When nobody reads the console any more (the terminal hung up, `| head` quit): the run goes
/// on, standard error says where to follow it (it may outlive standard output), and the journal
/// records it before the run's record closes.
final class ConsoleLossRecord: @unchecked Sendable {
    private let journal: JournalWriter
    private let lock = NSLock()
    private var recording: Task<Void, Never>?

    init(journal: JournalWriter) {
        self.journal = journal
    }

    func record(_ reason: String) {
        let run = journal.directory.id
        Console.writeAll("drctl: \(reason); the run goes on. Follow it with: drctl runs, drctl transcript show \(run)\n", to: STDERR_FILENO)
        lock.withLock { recording = Task { [journal] in await journal.recordConsoleLost(reason) } }
    }

    /// The record's line is in the journal (when the console was lost).
    func written() async {
        await lock.withLock { recording }?.value
    }
}
