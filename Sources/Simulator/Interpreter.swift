import ESXi
import Foundation

/// What a command did: its output, or that it blocks until the fleet changes (a power-on waiting
/// on a question), or that the connection dropped after it took effect.
public enum Execution: Sendable, Equatable {
    case finished(ShellOutput)
    case waiting(PendingWait)
    case dropped
}

/// A command that blocks: `vim-cmd vmsvc/power.on` while the VM waits on a question.
public struct PendingWait: Codable, Sendable, Equatable {
    public var host: String
    public var vm: String
}

/// One command's result inside a pipeline.
struct CommandOutput {
    var stdout = ""
    var stderr = ""
    var exit: Int32 = 0
    var wait: PendingWait?
    /// The client's connection dies before the answer (the command may still take effect).
    var dropsConnection = false

    static func text(_ stdout: String) -> CommandOutput { CommandOutput(stdout: stdout) }
    static func failure(_ stderr: String, exit: Int32 = 1) -> CommandOutput { CommandOutput(stderr: stderr, exit: exit) }
    static func fault(_ text: String) -> CommandOutput { CommandOutput(stdout: text, exit: 1) }
}

/// Answers shell command lines as a host of the fleet would, changing the fleet as ESXi would.
public enum Interpreter {
    public static func run(_ line: String, on host: String, fleet: inout Fleet) -> Execution {
        fleet.commandCount += 1
        fleet.occurrences["\(host)\u{1}\(line)", default: 0] += 1
        fleet.landDueRegistrations()
        let parsed: ShellLine
        do {
            parsed = try ShellLine.parse(line)
        } catch let error as ShellLine.SyntaxError {
            return .finished(ShellOutput(stdout: "", stderr: "-sh: syntax error: \(error.message)\n", exitStatus: 2))
        } catch {
            return .finished(ShellOutput(stdout: "", stderr: "-sh: syntax error\n", exitStatus: 2))
        }
        if let hostIndex = fleet.hostIndex(host), shouldDrop(line, hostIndex: hostIndex, fleet: &fleet) {
            _ = execute(parsed, on: host, fleet: &fleet)
            return .dropped
        }
        if let failure = randomFailure(line, host: host, fleet: fleet) { return .finished(failure) }
        let result = execute(parsed, on: host, fleet: &fleet)
        if result.dropsConnection { return .dropped }
        if let wait = result.wait, !parsed.background { return .waiting(wait) }
        return .finished(ShellOutput(stdout: result.stdout, stderr: result.stderr, exitStatus: result.exit))
    }

    /// Checks a blocked command again; its output once the fleet let it finish.
    public static func resume(_ wait: PendingWait, fleet: Fleet) -> ShellOutput? {
        guard let index = fleet.vmIndex(named: wait.vm) else {
            return ShellOutput(stdout: "Powering on VM:\n", stderr: "", exitStatus: 1)
        }
        let vm = fleet.vms[index]
        if vm.question != nil { return nil }
        if vm.power == .on { return ShellOutput(stdout: "Powering on VM:\n") }
        return ShellOutput(stdout: "Powering on VM:\n" + Render.fault("vmodl.fault.RequestCanceled", message: "The task was canceled by a user.", prefix: "Power on failed: "),
                           exitStatus: 1)
    }

    private static func shouldDrop(_ line: String, hostIndex: Int, fleet: inout Fleet) -> Bool {
        for (fragment, times) in fleet.hosts[hostIndex].pendingDrops where times > 0 && line.contains(fragment) {
            fleet.hosts[hostIndex].pendingDrops[fragment] = times - 1
            return true
        }
        return false
    }

    private static func randomFailure(_ line: String, host: String, fleet: Fleet) -> ShellOutput? {
        for rule in fleet.randomFailureRules where line.contains(rule.matching) {
            let occurrence = fleet.occurrences["\(host)\u{1}\(line)"] ?? 1
            if SeededRandom.unit(seed: fleet.seed, key: "fail/\(host)/\(line)/\(occurrence)") < rule.rate {
                return ShellOutput(stdout: "", stderr: "Connect to localhost failed: Connection failure.\n", exitStatus: 1)
            }
        }
        return nil
    }

    static func execute(_ line: ShellLine, on host: String, fleet: inout Fleet) -> CommandOutput {
        var last = CommandOutput()
        var combinedOut = ""
        var combinedErr = ""
        for (index, pipeline) in line.pipelines.enumerated() {
            if index > 0 {
                switch line.connectors[index - 1] {
                case .and where last.exit != 0: continue
                case .or where last.exit == 0: continue
                default: break
                }
            }
            var input = ""
            for command in pipeline {
                var output = runCommand(command.words, stdin: input, on: host, fleet: &fleet)
                if command.mergeStderr {
                    output.stdout += output.stderr
                    output.stderr = ""
                }
                if command.discardStdout { output.stdout = "" }
                if command.discardStderr { output.stderr = "" }
                combinedErr += output.stderr
                input = output.stdout
                last = output
            }
            combinedOut += last.stdout
        }
        return CommandOutput(stdout: combinedOut, stderr: combinedErr, exit: last.exit, wait: last.wait, dropsConnection: last.dropsConnection)
    }

    static func runCommand(_ words: [String], stdin: String, on host: String, fleet: inout Fleet) -> CommandOutput {
        guard let name = words.first else { return CommandOutput() }
        let arguments = Array(words.dropFirst())
        if let vcenter = fleet.vcenter, host == vcenter.hostName {
            return ApplianceShell.run(name, arguments, stdin: stdin, fleet: &fleet)
        }
        switch name {
        case "vim-cmd": return VimCmd.run(arguments, on: host, fleet: &fleet)
        case "esxcli": return Esxcli.run(arguments, on: host, fleet: &fleet)
        case "/etc/init.d/hostd", "/etc/init.d/vpxa": return HostServices.run(name, arguments, on: host, fleet: &fleet)
        case "vmkping": return Network.vmkping(arguments, on: host, fleet: fleet)
        case "ls", "find", "df", "test", "[": return Files.run(name, arguments, on: host, fleet: fleet)
        default:
            if let output = TextTools.run(name, arguments, stdin: stdin, on: host, fleet: fleet) { return output }
            return .failure("-sh: \(name): not found\n", exit: 127)
        }
    }
}
