import Engine
import Foundation
import Journal
import RunbookFormat
@testable import SSHTransport
import Testing

/// Output beyond the memory limit is streamed to a file as it arrives, masked, and the run's record
/// takes that file over: stored once.
@Suite("large output is streamed, not held", .serialized, .enabled(if: SSHD.isRoot, "needs root to add a test user and a PAM service"))
struct LargeOutputTests {
    let helpers = SSHTransportTests()

    @Test("5 MB past a 1 MB limit lands whole in one file of outputs/, masked, its SHA-256 in the journal; memory holds only the head")
    func spooledOnce() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        let run = try RunDirectory.create(id: "spool", in: runs)
        let redactor = Redactor()
        redactor.register("hunter2-secret")
        let settings = SSHTransport.Settings(knownHostsPath: try sshd.knownHosts(), outputDirectory: run.outputs.path, outputMemoryLimit: 1 << 20)
        let ssh = SSHTransport(inventory: Inventory(), settings: settings, redactor: redactor)
        // 80,000 lines of 64 bytes, the secret on every 1,000th.
        let command = "i=0; while [ $i -lt 80000 ]; do if [ $((i % 1000)) -eq 0 ]; then echo \"line $i hunter2-secret\"; else printf '%063d\\n' $i; fi; i=$((i+1)); done"
        let result = try await ssh.execute(command, on: helpers.host(sshd), timeout: .seconds(120))
        let spooled = try #require(result.stdoutSpool)
        #expect(result.stdout.utf8.count <= OutputCollector.headBytes)
        #expect(result.stdout.hasPrefix("line 0 [redacted]") || result.stdout.hasPrefix("line 0 hunter2-secret"))
        let data = try Data(contentsOf: URL(fileURLWithPath: spooled.path))
        #expect(data.count == spooled.bytes && spooled.bytes > 5_000_000)
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("hunter2") && text.components(separatedBy: "[redacted]").count == 81)
        #expect(text.split(separator: "\n").count == 80_000)
        #expect(JournalChain.sha256(data) == spooled.sha256)

        let journal = try JournalWriter(directory: run, redactor: redactor)
        await journal.record(.commandFinished(step: "dump", item: ItemRef(index: 0, label: ""), host: "esxi-test", command: command, result: result))
        await journal.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: run.outputs.path)
        #expect(files.count == 1 && files[0].hasSuffix("dump-esxi-test.stdout"), "\(files)")
        #expect(!FileManager.default.fileExists(atPath: spooled.path))
        let line = try String(contentsOf: run.journal, encoding: .utf8)
        #expect(line.contains("\"stdout_sha256\":\"\(spooled.sha256)\"") && line.contains("\"stdout_bytes\":\(spooled.bytes)"))
    }

    @Test("output under the limit stays in memory; nothing is written")
    func smallStaysInMemory() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-spool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = SSHTransport.Settings(knownHostsPath: try sshd.knownHosts(), outputDirectory: directory, outputMemoryLimit: 1 << 20)
        let result = try await SSHTransport(inventory: Inventory(), settings: settings).execute("head -c 1000000 /dev/zero | tr '\\000' a", on: helpers.host(sshd), timeout: .seconds(60))
        #expect(result.stdoutSpool == nil && result.stdout.utf8.count == 1_000_000)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
}
