import DrctlCore
import Foundation

/// Keeps the person watching a run informed between its log lines. On a terminal: the status
/// area under the lines, redrawn four times a second. Through a pipe: a heartbeat line when nothing
/// was written for a while (30 s unless `--heartbeat` says), so a log shows the run is alive during
/// a long wait. Runs on a thread of its own: it never waits for the engine, nor the engine for it.
final class LiveStatus: @unchecked Sendable {
    private let progress: RunProgress
    private let style: Style
    private let heartbeat: Duration
    private let lock = NSLock()
    private var running = false
    private let finished = DispatchSemaphore(value: 0)

    init(progress: RunProgress, style: Style, heartbeat: Duration) {
        self.progress = progress
        self.style = style
        self.heartbeat = heartbeat
    }

    func start() {
        lock.withLock { running = true }
        let terminal = Console.shared.isTerminal
        Thread { [self] in
            while lock.withLock({ running }) {
                if terminal { drawArea() } else { beatIfQuiet() }
                usleep(terminal ? 250_000 : 200_000)
            }
            Console.shared.clearFooter()
            finished.signal()
        }.start()
    }

    /// Stops and erases the status area: what follows (the summary) is ordinary output.
    func stop() {
        guard lock.withLock({ () -> Bool in defer { running = false }; return running }) else { return }
        finished.wait()
    }

    private func drawArea() {
        let console = Console.shared
        // Room for the lines above: never more than a third of the screen.
        let lines = StatusLines.area(progress.snapshot(), now: progress.clock.date(), columns: console.columns, style: style)
        console.drawFooter(Array(lines.prefix(max(2, console.rows / 3))))
    }

    private func beatIfQuiet() {
        // A quiet spell in the log is wall time, whatever the run's clock.
        guard Date().timeIntervalSince(Console.shared.lastLineWritten) >= heartbeat.seconds else { return }
        Console.shared.writeLogLine(StatusLines.heartbeat(progress.snapshot(), now: progress.clock.date()))
    }
}
