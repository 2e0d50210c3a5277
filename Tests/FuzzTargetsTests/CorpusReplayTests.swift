import Foundation
import FuzzTargets
import Testing

/// `make test` replays the committed fuzz corpus: every seed, and every input that once crashed or
/// hung, through the target that reads it. A defect stops the process; a hang shows as a test that
/// never ends.
@Suite("fuzz corpus replay")
struct CorpusReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The corpus of a target: its seeds in Tests/Corpus/, the findings, and for the file loaders
    /// the repo's own runbooks and scenarios.
    static func inputs(for target: FuzzTarget) -> [URL] {
        target.seedDirectories.flatMap { directory in
            let url = root.appendingPathComponent(directory)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { url.appendingPathComponent($0) }
        }
    }

    @Test("every target has seeds", arguments: FuzzTarget.allCases)
    func seeded(_ target: FuzzTarget) {
        #expect(Self.inputs(for: target).count >= 10, "\(target.rawValue): \(Self.inputs(for: target).count) inputs")
    }

    @Test("every corpus input ends in a result or a clear error", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        for input in Self.inputs(for: target) {
            let outcome = target.run(try Data(contentsOf: input))
            #expect(!outcome.isEmpty, "\(input.lastPathComponent)")
        }
    }

    @Test("the loaders refuse the inputs that once crashed or were wrongly accepted, naming the place")
    func findingsRefused() throws {
        let findings = Self.root.appendingPathComponent("Tests/Corpus/findings")
        for name in ["cli-crash-duration-1e20.yaml", "cli-crash-duration-inf.yaml", "cli-crash-duration-sum-overflow.yaml",
                     "cli-crash-template-2042-parens.yaml", "cli-hang-billion-laughs-foreach.yaml", "cli-accepted-invalid-timeout-0s.runbook.yaml"] {
            let outcome = FuzzTarget.runbook.run(try Data(contentsOf: findings.appendingPathComponent(name)))
            #expect(outcome.hasPrefix("refused: fuzz.yaml:"), "\(name): \(outcome)")
        }
        for name in ["cli-crash-scenario-rate-1e18.yaml", "cli-crash-scenario-latency-1e20.yaml", "cli-crash-scenario-base-self.yaml"] {
            let outcome = FuzzTarget.scenario.run(try Data(contentsOf: findings.appendingPathComponent(name)))
            #expect(outcome.hasPrefix("refused: fuzz.yaml:"), "\(name): \(outcome)")
        }
    }
}
