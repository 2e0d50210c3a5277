import DrctlCore
import Foundation
import Testing

/// Drills killed with SIGKILL at seeded random instants, then resumed: the simulated fleet must
/// end as the scenario expects, and no change may reach a host more often than in an
/// uninterrupted drill. `make crash-test` runs many more points (DRCTL_CRASH_POINTS).
@Suite("crash test")
struct CrashTests {
    /// Points per runbook: 17 × 3 runbooks in `make test`.
    static let pointsPerDrill = max(17, (Int(ProcessInfo.processInfo.environment["DRCTL_CRASH_POINTS"] ?? "") ?? 0) / 3)
    static let seed = UInt64(ProcessInfo.processInfo.environment["DRCTL_CRASH_SEED"] ?? "") ?? 20261126

    @Test("SIGKILL at random instants, then resume", arguments: CrashHarness.drills)
    func killAndResume(_ drill: CrashHarness.Drill) async throws {
        let reference = CrashHarness()
        #expect(try await reference.start(drill) == .exited(0), "the uninterrupted \(drill.name) drill must pass")
        let referenceChanges = reference.changeLog
        // An instant is a point in the run's progress (after journal line k, plus up to 3 ms), so
        // load on the machine cannot push it past the end of the run.
        let referenceLines = reference.journalTypes.count
        var random = SplitMix64(state: Self.seed &+ UInt64(drill.name.unicodeScalars.reduce(0) { $0 &* 31 &+ Int($1.value) }.magnitude))
        var crashed = 0
        var attempts = 0
        var endings: [String] = []
        while crashed < Self.pointsPerDrill && attempts < Self.pointsPerDrill * 3 {
            attempts += 1
            let line = 1 + Int(Double(referenceLines - 1) * random.unit())
            let delay = Duration.microseconds(Int64(3000 * random.unit()))
            let harness = CrashHarness()
            let ending = try await harness.start(drill, killAtLine: line, killAfter: delay)
            let label = "\(drill.name), killed \(delay) after journal line \(line) (seed \(Self.seed), point \(attempts))"
            endings.append("\(ending)")
            guard ending == .killed else { continue }  // it finished first: not a crash point
            guard harness.journalTypes.contains("run-started") else {
                #expect(harness.changeLog.isEmpty, "\(label): a change reached a host before the run was journaled")
                continue
            }
            crashed += 1
            // Every fourth point also kills the resume, to show a resume can itself be resumed.
            if crashed % 4 == 0 {
                let target = CrashHarness.journalLines(in: harness.runsDirectory) + 1 + Int(Double(referenceLines / 2) * random.unit())
                _ = try await CrashHarness.spawn(["resume", harness.runID!, "--runs-dir", harness.runsDirectory, "--auto-approve"],
                                                 killAfter: delay, startedWhen: { CrashHarness.journalLines(in: harness.runsDirectory) >= target })
            }
            let result = try await harness.resume()
            #expect(result.status == 0 && result.stdout.contains("DRILL PASSED"), "\(label): \(result.stdout)\(result.stderr)")
            let repeated = CrashHarness.repeated(harness.changeLog, reference: referenceChanges)
            #expect(repeated.isEmpty, "\(label): changes repeated: \(repeated)")
        }
        #expect(crashed == Self.pointsPerDrill, "only \(crashed) of \(attempts) kills landed inside the drill: \(endings)")
    }
}
