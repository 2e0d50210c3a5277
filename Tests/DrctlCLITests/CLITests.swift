import Foundation
import Testing

/// Runs the built `drctl` binary, as an operator would.
struct CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/drctl").path

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary on a thread of its own: waiting for a process must never block Swift's
    /// cooperative pool, which the other tests share.
    /// `environment`: variables set for this process on top of the test's own.
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, stdin: stdin, environment: environment) })
            }.start()
        }
    }

    private static func runBlocking(_ arguments: [String], stdin: String?, environment: [String: String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw CLIError("\(binary) is missing: run `swift build` (make test does) before the tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = withRunsDirectory(arguments)
        process.currentDirectoryURL = root
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given } }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs and drills record themselves; tests keep those records out of the checkout.
    static let runsDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-test-runs").path

    static func withRunsDirectory(_ arguments: [String]) -> [String] {
        guard ["run", "drill"].contains(arguments.first ?? ""), !arguments.contains("--runs-dir") else { return arguments }
        return arguments + ["--runs-dir", runsDirectory]
    }

    /// Runs a shell command line (mount, umount) off the cooperative pool; its exit status.
    static func shell(_ line: String) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", line]
                continuation.resume(with: Swift.Result {
                    try process.run()
                    process.waitUntilExit()
                    return process.terminationStatus
                })
            }.start()
        }
    }

    static func temporaryFile(_ name: String, _ contents: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("drctl command line", .serialized)
struct CLITests {
    // How fast validate answers is a benchmark (`make bench`), not a timed test.
    @Test("validate accepts every runbook shipped in Runbooks/")
    func validateShippedRunbooks() async throws {
        let runbooks = try FileManager.default.contentsOfDirectory(atPath: CLI.root.appendingPathComponent("Runbooks").path)
            .filter { $0.hasSuffix(".yaml") }.map { "Runbooks/\($0)" }
        #expect(!runbooks.isEmpty)
        let result = try await CLI.run(["validate"] + runbooks)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == runbooks.count)
    }

    @Test("validate prints file:line:col problems and exits 2")
    func validateReportsProblems() async throws {
        let path = try CLI.temporaryFile("bad.yaml", "runbook: r\nsteps:\n  - id: a\n    on: h\n    rnu: echo\n")
        let result = try await CLI.run(["validate", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path):5:5: unknown key 'rnu' in a step (did you mean 'run'?)"))
        #expect(result.stderr.contains("\(path):3:5: step 'a' needs exactly one of run, action, approval, probe or wait"))
    }

    @Test("a missing file is invalid input, exit 2")
    func missingFile() async throws {
        let result = try await CLI.run(["validate", "/nonexistent/runbook.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("/nonexistent/runbook.yaml:1:1: cannot read the runbook"))
    }

    @Test("bad flags exit 2 with a usage message")
    func badFlags() async throws {
        let result = try await CLI.run(["run", "Runbooks/power-on-by-priority.yaml", "--max-parallel", "zero"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--max-parallel"))
        let offlineAlone = try await CLI.run(["run", "Runbooks/power-on-by-priority.yaml", "--offline"])
        #expect(offlineAlone.status == 2)
        #expect(offlineAlone.stderr.contains("--offline only goes with --dry-run"))
    }

    @Test("a missing or unknown param is invalid input")
    func params() async throws {
        let missing = try await CLI.run(["run", "Runbooks/power-on-by-priority.yaml", "--dry-run", "--offline"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("missing --param host="))
        let unknown = try await CLI.run(["run", "Runbooks/power-on-by-priority.yaml", "--dry-run", "--offline", "--param", "host=a", "--param", "hots=b"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("has no param 'hots' (did you mean 'host'?)"))
    }

    @Test("an offline dry-run prints the plan and exits 0")
    func offlineDryRun() async throws {
        let result = try await CLI.run(["run", "Runbooks/power-on-by-priority.yaml", "--dry-run", "--offline", "--param", "host=esxi-01"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Plan for power-on-by-priority"))
        #expect(result.stdout.contains("vim-cmd vmsvc/getallvms"))
        #expect(result.stdout.contains("behind approval confirm"))
    }

    @Test("graph --format dot is accepted by Graphviz")
    func graphThroughDot() async throws {
        let graph = try await CLI.run(["graph", "Runbooks/power-on-by-priority.yaml", "--format", "dot"])
        #expect(graph.status == 0)
        let dot = Process()
        dot.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        dot.arguments = ["-Tsvg"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        dot.standardInput = input
        dot.standardOutput = output
        dot.standardError = errors
        try dot.run()
        input.fileHandleForWriting.write(Data(graph.stdout.utf8))
        try input.fileHandleForWriting.close()
        let svg = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        dot.waitUntilExit()
        #expect(dot.terminationStatus == 0, "\(problems)")
        #expect(problems.isEmpty)
        #expect(svg.contains("<svg") && svg.contains("Power on, by priority group"))
    }

    @Test("graph --format mermaid draws every step and edge")
    func graphMermaid() async throws {
        let graph = try await CLI.run(["graph", "Runbooks/power-on-by-priority.yaml", "--format", "mermaid"])
        #expect(graph.status == 0)
        #expect(graph.stdout.hasPrefix("flowchart TD"))
        #expect(graph.stdout.components(separatedBy: "-->").count - 1 == 4)
    }

    @Test("--help and --version; every subcommand's help has an example")
    func help() async throws {
        let version = try await CLI.run(["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty)
        let help = try await CLI.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("Exit codes"))
        for code in ["0", "1", "2", "3", "4", "5", "6", "130", "143"] {
            #expect(help.stdout.contains("\n  \(code) "), "exit code \(code) is listed")
        }
        for command in ["validate", "run", "graph", "actions", "drill"] {
            let result = try await CLI.run([command, "--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command) --help has no example")
            // Wrapped once, by the parser: no paragraph line ends well short of the width (80) with room
            // for the next word, as a second wrap of hand-wrapped text leaves.
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (line, next) in zip(lines, lines.dropFirst())
            where !line.isEmpty && !line.hasPrefix(" ") && !next.hasPrefix(" ") && !next.isEmpty && !line.hasSuffix(":") {
                let nextWord = next.split(separator: " ").first.map(String.init) ?? ""
                #expect(line.count + 1 + nextWord.count > 70, "\(command) --help is wrapped twice at: \(line)")
            }
        }
    }

    @Test("a mistyped command: exit 2, did you mean, and the list of commands")
    func mistypedCommand() async throws {
        let result = try await CLI.run(["drlil", "Runbooks/host-failure.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("drctl has no command 'drlil' (did you mean 'drill'?)"), "\(result.stderr)")
        #expect(result.stderr.contains("validate, show, run"))
    }
}

@Suite("recorded runs")
struct RecordedRunTests {
    @Test("drctl runs lists a drill; transcript verify passes, then catches an edited line")
    func runsAndVerify() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-runs-\(UUID().uuidString.prefix(6))").path
        let drill = try await CLI.run(["drill", "Runbooks/vcenter-loss.yaml", "--scenario", "Simulator/vcenter-loss.yaml", "--param", "vcenter=vcsa",
                                       "--param", "appliance_vm=vcsa-01", "--auto-approve", "--runs-dir", runs])
        #expect(drill.status == 0)
        let listing = try await CLI.run(["runs", "--runs-dir", runs])
        let lines = listing.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("RUN") == true && lines.count == 2)
        #expect(lines[1].contains("vcenter-loss") && lines[1].contains("succeeded"))
        let id = String(lines[1].split(separator: " ")[0])
        let verified = try await CLI.run(["transcript", "verify", id, "--runs-dir", runs])
        #expect(verified.status == 0 && verified.stdout.contains("chain intact"))
        let shown = try await CLI.run(["transcript", "show", id, "--runs-dir", runs])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("run \(id) of vcenter-loss started by"))
        #expect(shown.stdout.contains("approval given by"))
        #expect(shown.stdout.contains("$ vim-cmd vmsvc/getallvms  -> exit 0"))
        #expect(shown.stdout.contains("run ended: succeeded (exit 0)"))
        let oneStep = try await CLI.run(["transcript", "show", id, "--runs-dir", runs, "--step", "find-appliance"])
        #expect(oneStep.stdout.contains("| Vmid") && !oneStep.stdout.contains("vcenter-back"))
        let json = try await CLI.run(["transcript", "show", id, "--runs-dir", runs, "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.first?["type"] as? String == "run-started")
        let journal = "\(runs)/\(id)/journal.jsonl"
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        try text.replacingOccurrences(of: "\"by\":\"", with: "\"by\":\"mallory-").write(toFile: journal, atomically: true, encoding: .utf8)
        let tampered = try await CLI.run(["transcript", "verify", id, "--runs-dir", runs])
        #expect(tampered.status == 1 && tampered.stdout.contains("BROKEN"))
        let missing = try await CLI.run(["transcript", "verify", "no-such-run", "--runs-dir", runs])
        #expect(missing.status == 2)
    }
}

@Suite("short secrets")
struct ShortSecretCLITests {
    @Test("loading an inventory whose password is shorter than 8 characters warns on stderr with file:line; the secret never shows")
    func shortPasswordWarned() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-short-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let runbook = directory.appendingPathComponent("r.yaml").path, inventory = directory.appendingPathComponent("i.yaml").path
        try "runbook: r\nsteps:\n  - id: look\n    on: [esxi-01]\n    action: vm.getallvms\n".write(toFile: runbook, atomically: true, encoding: .utf8)
        try "hosts:\n  - { name: esxi-01, address: 10.0.0.11, auth: { password_env: DRCTL_SHORT_PW } }\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        setenv("DRCTL_SHORT_PW", "Pa55", 1)
        let result = try await CLI.run(["validate", runbook, "--inventory", inventory])
        #expect(result.status == 0)
        #expect(result.stderr.contains("i.yaml:2:5: warning: host esxi-01: the password in $DRCTL_SHORT_PW is shorter than 8 characters"))
        #expect(!(result.stdout + result.stderr).contains("Pa55"))
    }
}

@Suite("drctl actions")
struct ActionsCommandTests {
    @Test("drctl actions NAME shows the exact commands the action sends, with example values")
    func sends() async throws {
        let powerOn = try await CLI.run(["actions", "vm.power.on"])
        #expect(powerOn.status == 0 && powerOn.stdout.contains("sends (example values): vim-cmd vmsvc/message 42"), "\(powerOn.stdout)")
        #expect(powerOn.stdout.contains("vim-cmd vmsvc/power.on 42"))
        let register = try await CLI.run(["actions", "vm.registervm"])
        #expect(register.stdout.contains("vim-cmd solo/registervm /vmfs/volumes/datastore1/app-01/app-01.vmx"), "\(register.stdout)")
    }
}

@Suite("drctl show")
struct ShowCommandTests {
    @Test("drctl show lists a runbook's params, steps and the approvals it asks; a broken runbook is exit 2 with file:line")
    func show() async throws {
        let shown = try await CLI.run(["show", "Runbooks/host-failure.yaml"])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("failed_host (host, required)"), "\(shown.stdout)")
        #expect(shown.stdout.contains("register — ") && shown.stdout.contains("changes hosts"))
        #expect(shown.stdout.contains("Approvals it asks") && shown.stdout.contains("restore-from-backup: ") && shown.stdout.contains("a manual step"))
        let broken = try CLI.temporaryFile("broken.yaml", "runbook: r\nsteps:\n  - id: a\n    run: [\n")
        let refused = try await CLI.run(["show", broken])
        #expect(refused.status == 2 && refused.stderr.contains("broken.yaml:"), "\(refused.stderr)")
    }
}
