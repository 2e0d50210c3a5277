import Foundation
import Testing

/// Every input that once crashed or hung drctl (`Tests/Corpus/findings/cli-crash-*`, `cli-hang-*`),
/// or that it accepted though it was invalid (`cli-accepted-invalid-*`), now ends in one clear
/// error naming file:line (exit 2), quickly.
@Suite("fuzz findings")
struct FuzzFindingTests {
    static let directory = CLI.root.appendingPathComponent("Tests/Corpus/findings").path
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    static let findings = files.filter { ["cli-crash-", "cli-hang-", "cli-accepted-invalid-"].contains(where: $0.hasPrefix) && $0.hasSuffix(".yaml") }

    /// A runbook found with a scenario (or an inventory) of the same stem is checked against it;
    /// that partner is then not tried alone.
    static func partner(of name: String) -> String? {
        guard name.hasSuffix(".runbook.yaml") else { return nil }
        let stem = String(name.dropLast(".runbook.yaml".count))
        return files.first { $0 != name && $0.hasPrefix(stem) && $0.hasSuffix(".yaml") }
    }

    static func isPartner(_ name: String) -> Bool { findings.contains { partner(of: $0) == name } }

    static func arguments(for name: String) throws -> [String] {
        let path = "\(directory)/\(name)"
        if let partner = partner(of: name) {
            let partnerText = try String(contentsOfFile: "\(directory)/\(partner)", encoding: .utf8)
            if partnerText.hasPrefix("scenario:") || partnerText.contains("\nscenario:") {
                return ["drill", path, "--scenario", "\(directory)/\(partner)", "--auto-approve", "--runs-dir", "/tmp/drctl-fuzz-runs"]
            }
            return ["validate", path, "--inventory", "\(directory)/\(partner)"]
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        if text.hasPrefix("scenario:") || text.contains("\nscenario:") {
            return ["sim", "init", "--scenario", path, "--state", "/tmp/drctl-fuzz-state.json"]
        }
        return ["validate", path]
    }

    @Test("each crashing, hanging or wrongly accepted input is refused with exit 2 and a file:line error")
    func refused() async throws {
        #expect(Self.findings.count >= 20, "the corpus is in the repo")
        for name in Self.findings where !Self.isPartner(name) {
            let result = try await CLI.run(try Self.arguments(for: name))
            #expect(result.status == 2, "\(name): exit \(result.status) \(result.stderr.prefix(300))")
            #expect(result.stderr.range(of: #"\.yaml:\d+:\d+: "#, options: .regularExpression) != nil, "\(name): the error names file:line:col: \(result.stderr.prefix(300))")
            #expect(result.stderr.count < 2_000, "\(name): one clear error, not a flood")
        }
    }

    @Test("a runbook naming a host the inventory lacks is refused by run before anything runs")
    func unknownHostRefusedByRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-unknown-host-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let runbook = directory.appendingPathComponent("r.yaml").path, inventory = directory.appendingPathComponent("i.yaml").path
        try "runbook: r\nsteps:\n  - id: look\n    on: [esxi-01, esxi-0l]\n    action: vm.getallvms\n".write(toFile: runbook, atomically: true, encoding: .utf8)
        try "hosts:\n  - { name: esxi-01, address: 10.0.0.11, auth: prompt }\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        let runs = directory.appendingPathComponent("runs").path
        let result = try await CLI.run(["run", runbook, "--inventory", inventory, "--dry-run", "--runs-dir", runs])
        #expect(result.status == 2)
        #expect(result.stderr.contains("r.yaml:4:9: step 'look' runs on host 'esxi-0l', which is not in the inventory (did you mean 'esxi-01'?)"))
        #expect(!FileManager.default.fileExists(atPath: runs), "nothing half-written")
        // Written out as an expression, the host is only known when the step runs: not refused here.
        try "runbook: r\nsteps:\n  - id: look\n    on: \"{{ inventory.esxi_hosts }}\"\n    action: vm.getallvms\n".write(toFile: runbook, atomically: true, encoding: .utf8)
        #expect(try await CLI.run(["validate", runbook, "--inventory", inventory]).status == 0)
    }
}
