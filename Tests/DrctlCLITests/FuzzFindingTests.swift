import Foundation
import Testing

/// Every input that once crashed or hung drctl (`../shared/fuzz-findings/cli-crash-*`, `cli-hang-*`)
/// now ends in one clear error naming file:line (exit 2), quickly.
@Suite("fuzz findings")
struct FuzzFindingTests {
    static let directory = CLI.root.deletingLastPathComponent().appendingPathComponent("shared/fuzz-findings").path
    static let findings: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { ($0.hasPrefix("cli-crash-") || $0.hasPrefix("cli-hang-")) && $0.hasSuffix(".yaml") }.sorted()

    @Test("each crashing or hanging input is refused with exit 2 and a file:line error", .enabled(if: !findings.isEmpty, "../shared/fuzz-findings is not here"))
    func refused() async throws {
        for name in Self.findings {
            let path = "\(Self.directory)/\(name)"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            // A runbook and a scenario found together are drilled together.
            let partner = path.replacingOccurrences(of: ".runbook.yaml", with: ".scenario.yaml")
            if name.hasSuffix(".scenario.yaml"), FileManager.default.fileExists(atPath: path.replacingOccurrences(of: ".scenario.yaml", with: ".runbook.yaml")) { continue }
            let arguments: [String]
            if name.hasSuffix(".runbook.yaml"), FileManager.default.fileExists(atPath: partner) {
                arguments = ["drill", path, "--scenario", partner, "--auto-approve", "--runs-dir", "/tmp/drctl-fuzz-runs"]
            } else if text.hasPrefix("scenario:") || text.contains("\nscenario:") {
                arguments = ["sim", "init", "--scenario", path, "--state", "/tmp/drctl-fuzz-state.json"]
            } else {
                arguments = ["validate", path]
            }
            let result = try await CLI.run(arguments)
            #expect(result.status == 2, "\(name): exit \(result.status) \(result.stderr.prefix(300))")
            #expect(result.stderr.range(of: #"\.yaml:\d+:\d+: "#, options: .regularExpression) != nil, "\(name): the error names file:line:col: \(result.stderr.prefix(300))")
            #expect(result.stderr.count < 2_000, "\(name): one clear error, not a flood")
        }
    }
}
