import DrctlCore
import ArgumentParser
import ESXi
import Foundation
import RunbookFormat
import Simulator

struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "The ESXi fleet simulator: create its state, answer as a host, or open a fake ESXi shell.",
        discussion: HelpText.unwrapped("""
        Example:
          drctl sim init --scenario Simulator/host-failure.yaml --state /tmp/fleet.json
          drctl sim exec --state /tmp/fleet.json --host esxi-02 -- vim-cmd vmsvc/getallvms
          drctl sim shell --scenario Simulator/host-failure.yaml --host esxi-02
        """),
        subcommands: [SimInitCommand.self, SimExecCommand.self, SimShellCommand.self, SimGenerateCommand.self, SimInventoryCommand.self, SimFromRunCommand.self]
    )
}

/// Loads a scenario or exits 2 with its problems.
func loadScenario(_ path: String, seed: UInt64? = nil) throws -> Scenario {
    do {
        return try ScenarioLoader.load(path: path, seed: seed)
    } catch let invalid as InvalidInput {
        throw failInvalidInput(invalid.diagnostics.map(\.description))
    }
}

struct SimInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a simulator state file from a scenario.",
        discussion: "Example:\n  drctl sim init --scenario Simulator/host-failure.yaml --state /tmp/fleet.json"
    )

    @Option(help: "The scenario file.") var scenario: String
    @Option(help: "The state file to create (replaced if it exists).") var state: String
    @Option(help: "Override the scenario's seed.") var seed: UInt64?

    func run() throws {
        let loaded = try loadScenario(scenario, seed: seed)
        do {
            try StateFile(path: state).create(loaded.fleet)
        } catch {
            writeError("drctl sim init: \(error)")
            throw ExitCode(ExitStatus.invalidInput)
        }
        print("\(state): \(loaded.name), \(loaded.fleet.hosts.count) hosts, \(loaded.fleet.vms.count) VMs")
    }
}

struct SimExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Answer one command as a simulated host (for sshd's ForceCommand).",
        discussion: HelpText.unwrapped("""
        The command comes from the arguments after --, or from SSH_ORIGINAL_COMMAND. The state file
        is locked while the command changes it, so concurrent sessions never lose an update.

        Example:
          drctl sim exec --state /tmp/fleet.json --host esxi-02 -- vim-cmd vmsvc/power.on 3
        """)
    )

    @Option(help: "The state file (drctl sim init makes it).") var state: String
    @Option(help: "The host to answer as.") var host: String
    @Argument(parsing: .captureForPassthrough, help: "The command line.") var command: [String] = []

    func run() throws {
        var words = command
        if words.first == "--" { words.removeFirst() }
        var line = words.isEmpty ? (ProcessInfo.processInfo.environment["SSH_ORIGINAL_COMMAND"] ?? "") : words.joined(separator: " ")
        // drctl's SSH transport wraps each command to learn its process group: the simulated host runs the command itself.
        if let inner = ProcessGroup.unwrap(line) { line = inner }
        guard !line.isEmpty else {
            writeError("drctl sim exec: no command (give it after --, or through SSH_ORIGINAL_COMMAND)")
            throw ExitCode(ExitStatus.invalidInput)
        }
        let file = StateFile(path: state)
        do {
            let result = try SimulatedExecution.run(line, on: host, state: file)
            FileHandle.standardOutput.write(Data(result.stdout.utf8))
            FileHandle.standardError.write(Data(result.stderr.utf8))
            throw ExitCode(result.exitStatus)
        } catch let problem as StateFile.Problem {
            writeError("drctl sim exec: \(problem)")
            throw ExitCode(ExitStatus.invalidInput)
        }
    }
}

struct SimShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "An interactive fake ESXi shell on one simulated host, for training.",
        discussion: HelpText.unwrapped("""
        Type ESXi commands at the `[root@HOST:~]` prompt; `exit` leaves. With --state, changes are
        shared with drills and other shells using the same state file.

        Example:
          drctl sim shell --scenario Simulator/host-failure.yaml --host esxi-02
        """)
    )

    @Option(help: "The scenario to start from.") var scenario: String?
    @Option(help: "A state file to share instead of a scenario.") var state: String?
    @Option(help: "The host to log in to.") var host: String

    func validate() throws {
        if (scenario == nil) == (state == nil) { throw ValidationError("give exactly one of --scenario or --state") }
    }

    func run() throws {
        var fleet: Fleet
        let file = state.map(StateFile.init(path:))
        do {
            fleet = try file?.read() ?? loadScenario(scenario!).fleet
        } catch let problem as StateFile.Problem {
            writeError("drctl sim shell: \(problem)")
            throw ExitCode(ExitStatus.invalidInput)
        }
        guard let hostInfo = fleet.hosts.first(where: { $0.name == host }) else {
            throw failInvalidInput(["no host '\(host)' in the simulated fleet; hosts: \(fleet.hosts.map(\.name).joined(separator: ", "))"])
        }
        guard hostInfo.state == .up else {
            throw failInvalidInput(["ssh: connect to host \(hostInfo.address) port 22: Connection refused (\(host) is \(hostInfo.state.rawValue) in this scenario)"])
        }
        print(SimulatedExecution.banner(for: hostInfo), terminator: "")
        while true {
            print("[root@\(host):~] ", terminator: "")
            fflush(nil)
            guard let line = readLine() else { print(""); break }
            let trimmed = line.trimmingBlanks()
            if trimmed == "exit" || trimmed == "logout" { break }
            if trimmed.isEmpty { continue }
            let result: ShellOutput
            if let file {
                result = (try? SimulatedExecution.run(trimmed, on: host, state: file)) ?? ShellOutput(stdout: "", stderr: "state file unavailable\n", exitStatus: 1)
            } else {
                result = SimulatedExecution.run(trimmed, on: host, fleet: &fleet)
            }
            print(result.stdout + result.stderr, terminator: "")
            fflush(nil)
        }
    }
}
