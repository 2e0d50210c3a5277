import DrctlCore
import Engine
import Foundation
import RunbookFormat
import Testing

/// The engine reads time only from its clock (`RunOptions.clock`): a wait of minutes, its
/// deadline and the run's duration follow the clock it is given, not the machine's.
@Suite("the engine's clock")
struct ClockTests {
    /// A clock whose short sleeps (a wait's interval) return at once, having moved its time on
    /// by what was asked, and whose long ones (the timers bounding each check, 100 s and more)
    /// last until cancelled: enough for one wait alone; the virtual clock of drills
    /// coordinates many tasks.
    final class SkippingClock: RunClock, @unchecked Sendable {
        private let lock = NSLock()
        private var now: Duration = .zero
        private(set) var slept: Duration = .zero
        let origin = Date(timeIntervalSince1970: 1_800_000_000)

        var elapsed: Duration { lock.withLock { now } }

        func sleep(for duration: Duration) async throws {
            guard duration < .seconds(100) else {
                while !Task.isCancelled { await Task.yield() }
                throw CancellationError()
            }
            lock.withLock {
                now += duration
                slept += duration
            }
        }

        func date(at elapsed: Duration) -> Date { origin.addingTimeInterval(elapsed.seconds) }
        var isVirtual: Bool { false }
        func enter() {}
        func leave() {}
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

    /// What happened, in order, with the virtual time each saw.
    actor Log {
        private(set) var entries: [String] = []
        func note(_ entry: String) { entries.append(entry) }
    }

    @Test("virtual time jumps to the next deadline once every task sleeps, waking sleepers in deadline order")
    func virtualJumps() async throws {
        let clock = VirtualClock(origin: Date(timeIntervalSince1970: 0))
        let log = Log()
        let sleepers: [@Sendable () async -> Void] = [
            { try? await clock.sleep(for: .seconds(600)); await log.note("b at \(clock.elapsed)") },
            { try? await clock.sleep(for: .seconds(300)); await log.note("a at \(clock.elapsed)") },
            { try? await clock.sleep(for: .seconds(300)); try? await clock.sleep(for: .seconds(60)); await log.note("c at \(clock.elapsed)") },
        ]
        _ = await clock.gather(sleepers)
        #expect(await log.entries == ["a at 300.0 seconds", "c at 360.0 seconds", "b at 600.0 seconds"])
        #expect(clock.elapsed == .seconds(600))
    }

    @Test("virtual time stands still while any task works: a sleeper wakes only after the worker is done")
    func virtualWaitsForWork() async throws {
        let clock = VirtualClock()
        let log = Log()
        let (stream, release) = AsyncStream<Void>.makeStream()
        let tasks: [@Sendable () async -> Void] = [
            { try? await clock.sleep(for: .seconds(60)); await log.note("slept to \(clock.elapsed)") },
            {
                // Work that takes real time, none of it virtual: the test lets it finish.
                for await _ in stream { break }
                await log.note("work done at \(clock.elapsed)")
            },
            {
                await log.note("releasing")
                release.yield()
            },
        ]
        _ = await clock.gather(tasks)
        #expect(await log.entries == ["releasing", "work done at 0.0 seconds", "slept to 60.0 seconds"])
    }

    @Test("a cancelled sleep ends at once and moves no time")
    func virtualCancel() async throws {
        let clock = VirtualClock()
        let racers: [@Sendable () async -> String] = [
            { (try? await clock.sleep(for: .seconds(3600))) == nil ? "cancelled" : "slept" },
            { "done first" },
        ]
        let results = await clock.gather(racers, stopsTheRest: { _ in true })
        #expect(results == ["done first", "cancelled"])
        #expect(clock.elapsed == .zero)
    }

    @Test("in virtual time a 15-minute wait on one host and a 4-minute one on another take exactly their time, together")
    func engineInVirtualTime() async throws {
        var options = RunOptions()
        options.clock = VirtualClock()
        let transport = ScriptedTransport { host, _, call in .init(stdout: host == "h2" && call >= 5 ? "mounted\n" : "missing\n") }
        let log = EventLog()
        let summary = try await runEngine("""
        runbook: waits
        steps:
          - { id: never, on: h1, wait: { run: "check h1", until: "result.stdout contains 'mounted'", interval: 1m, timeout: 15m } }
          - { id: soon, on: h2, wait: { run: "check h2", until: "result.stdout contains 'mounted'", interval: 1m, timeout: 15m } }
          - { id: after-soon, needs: [soon], on: h2, run: "next" }
        """, transport: transport, options: options, log: log)
        #expect(summary.items(of: "never")[0].outcome.reason?.contains("did not hold within 15m00s (16 checks)") == true)
        #expect(summary.status("soon") == .succeeded)
        #expect(summary.items(of: "soon")[0].outcome.duration == .seconds(240), "five checks, a minute apart")
        #expect(summary.duration == .seconds(900))
        let next = try #require(summary.items(of: "after-soon").first?.outcome.started)
        #expect(next.timeIntervalSince(summary.started) == 240, "the step after the short wait starts at 4m, not after the long one")
    }

    @Test("in virtual time, items queued for a host whose slots are busy let the clock move: ten 1-second commands two at a time take 5 s")
    func queuedItemsInVirtualTime() async throws {
        let clock = VirtualClock()
        var options = RunOptions(maxPerHost: 2)
        options.clock = clock
        let transport = ScriptedTransport(clock: clock) { _, _, _ in .init(stdout: "done\n", delay: .seconds(1)) }
        let summary = try await runEngine("""
        runbook: queue
        steps:
          - { id: many, foreach: "{{ [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }}", on: h1, run: "work {{ item }}" }
        """, transport: transport, options: options)
        #expect(summary.status("many") == .succeeded)
        #expect(summary.duration == .seconds(5), "\(summary.duration)")
        #expect(await transport.maxRunningPerHost["h1"] == 2)
    }
}
