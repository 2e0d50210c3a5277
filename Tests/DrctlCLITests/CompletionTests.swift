import Foundation
import Testing

/// The bash completion script drctl generates, driven as bash drives it when TAB is pressed.
@Suite("shell completion")
struct CompletionTests {
    /// What bash offers for the last word of `line` (the script calls `drctl` from PATH).
    static func complete(_ words: [String]) async throws -> [String] {
        let script = try CLI.temporaryFile("drctl.bash", try await CLI.run(["--generate-completion-script", "bash"]).stdout)
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let line = """
        export PATH=\(URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path):$PATH
        source '\(script)'
        cd '\(CLI.root.path)'
        COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
        _drctl drctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\\n' "${COMPREPLY[@]}"
        """
        let output = try CLI.temporaryFile("complete.sh", line)
        let result: String = try await withCheckedThrowingContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/bash")
                process.arguments = [output]
                let pipe = Pipe()
                process.standardOutput = pipe
                continuation.resume(with: Result {
                    try process.run()
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return String(decoding: data, as: UTF8.self)
                })
            }.start()
        }
        return result.split(separator: "\n").map(String.init)
    }

    @Test("runbook and scenario files complete, YAML only")
    func files() async throws {
        #expect(try await Self.complete(["drctl", "run", "Runbooks/host"]) == ["Runbooks/host-failure.yaml"])
        let scenarios = try await Self.complete(["drctl", "drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure-p"])
        #expect(Set(scenarios) == ["Simulator/host-failure-partial-zoning.yaml", "Simulator/host-failure-power-on-fails.yaml"], "\(scenarios)")
    }

    @Test("run ids complete from the runs directory named on the line")
    func runIDs() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-complete-\(UUID().uuidString.prefix(6))").path
        let drill = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml", "--param", "failed_host=esxi-01",
                                       "--auto-approve", "--runs-dir", runs])
        #expect(drill.status == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.first?.isNumber == true })
        for command in [["report"], ["resume"], ["transcript", "show"], ["approve"]] {
            let offered = try await Self.complete(["drctl"] + command + ["--runs-dir", runs, String(run.prefix(4))])
            #expect(offered == [run], "\(command): \(offered)")
        }
    }
}
