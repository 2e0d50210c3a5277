import Engine
import Foundation
import RunbookFormat
import Testing

/// The engine reads time only from its clock (`RunOptions.clock`): a wait of minutes, its
/// deadline and the run's duration follow the clock it is given, not the machine's.
@Suite("the engine's clock")
struct ClockTests {
    /// A clock whose short sleeps (a wait's interval) return at once, having moved its time on
    /// by what was asked, and whose long ones (the timers bounding each check, 10 minutes and
    /// more) last until cancelled: enough for one wait alone; the virtual clock of drills
    /// coordinates many tasks.
    final class SkippingClock: RunClock, @unchecked Sendable {
        private let lock = NSLock()
        private var now: Duration = .zero
        private(set) var slept: Duration = .zero
        let origin = Date(timeIntervalSince1970: 1_800_000_000)

        var elapsed: Duration { lock.withLock { now } }

        func sleep(for duration: Duration) async throws {
            guard duration < .seconds(600) else {
                while !Task.isCancelled { await Task.yield() }
                throw CancellationError()
            }
            lock.withLock {
                now += duration
                slept += duration
            }
        }

        func date(at elapsed: Duration) -> Date { origin.addingTimeInterval(elapsed.seconds) }
    }

    @Test("a 15-minute wait that never holds ends at its deadline on the clock, with every check and the deadline in its events")
    func waitFollowsTheClock() async throws {
        let clock = SkippingClock()
        var options = RunOptions()
        options.clock = clock
        let transport = ScriptedTransport { _, _, _ in .init(stdout: "missing\n") }
        let log = EventLog()
        let summary = try await runEngine("""
        runbook: wait
        steps:
          - { id: lun, on: h1, wait: { run: "check", until: "result.stdout contains 'mounted'", interval: 1m, timeout: 15m } }
        """, transport: transport, options: options, log: log)
        let outcome = summary.items(of: "lun")[0].outcome
        #expect(outcome.status == .failed)
        #expect(outcome.reason?.contains("did not hold within 15m00s (16 checks)") == true, "\(outcome.reason ?? "")")
        #expect(clock.slept == .seconds(15 * 60))
        #expect(summary.duration >= .seconds(15 * 60) && summary.duration < .seconds(15 * 60 + 1), "the run's duration is on the clock: \(summary.duration)")
        #expect(summary.started == clock.origin)
        let deadlines = await log.events.compactMap { event -> Date? in
            if case .waitChecked(_, _, _, _, _, _, let deadline) = event { return deadline } else { return nil }
        }
        #expect(deadlines.count == 16 && deadlines.allSatisfy { $0 == clock.origin.addingTimeInterval(15 * 60) })
    }
}
