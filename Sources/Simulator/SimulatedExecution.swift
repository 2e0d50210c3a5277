import ESXi
import Foundation

/// Runs commands against a state file or an in-memory fleet, outside the engine: `drctl sim exec`
/// (behind sshd) and `drctl sim shell`.
public enum SimulatedExecution {
    /// One command against a shared state file. Blocking commands poll the file until released.
    public static func run(_ line: String, on host: String, state: StateFile) throws -> ShellOutput {
        let before = try state.read()
        if let index = before.hostIndex(host) {
            switch before.hosts[index].state {
            case .up where before.hosts[index].commandsStall == true:
                // Accepts SSH, never answers a command: the client's timeout ends this.
                while true { Thread.sleep(forTimeInterval: 3600) }
            case .up: break
            case .down: return ShellOutput(stdout: "", stderr: "ssh: connect to host \(before.hosts[index].address) port 22: Connection refused\n", exitStatus: 255)
            case .hung:
                // A hung host never answers: the client's timeout ends this.
                while true { Thread.sleep(forTimeInterval: 3600) }
            }
        }
        if let latency = before.latency, latency.fixed + latency.jitter > 0 {
            Thread.sleep(forTimeInterval: Double(latency.fixed + latency.jitter / 2) / 1000)
        }
        var outcome = try state.update { fleet -> Execution in
            let result = Interpreter.run(line, on: host, fleet: &fleet)
            fleet.fireDueFaults()
            return result
        }
        while case .waiting(let wait) = outcome {
            Thread.sleep(forTimeInterval: 0.02)
            let fleet = try state.read()
            if let index = fleet.hostIndex(host), fleet.hosts[index].state != .up { outcome = .dropped; break }
            if let output = Interpreter.resume(wait, fleet: fleet) { outcome = .finished(output) }
        }
        guard case .finished(let output) = outcome else {
            dropConnection()
            return ShellOutput(stdout: "", stderr: "Connection to \(host) closed by remote host.\n", exitStatus: 255)
        }
        return output
    }

    /// One command against an in-memory fleet (a training shell: nothing else can answer a
    /// question, so a blocking power-on returns at once, as with `power.on &`).
    public static func run(_ line: String, on host: String, fleet: inout Fleet) -> ShellOutput {
        switch Interpreter.run(line, on: host, fleet: &fleet) {
        case .finished(let output): return output
        case .waiting: return ShellOutput(stdout: "Powering on VM:\n(the VM waits on a question: answer it with vim-cmd vmsvc/message)\n")
        case .dropped: return ShellOutput(stdout: "", stderr: "Connection to \(host) closed by remote host.\n", exitStatus: 255)
        }
    }

    /// Behind sshd, a dropped connection is the sshd session ending: end our parent.
    static func dropConnection() {
        guard ProcessInfo.processInfo.environment["SSH_CONNECTION"] != nil else { return }
        kill(getppid(), SIGKILL)
    }

    /// The post-login banner of the host's ESXi version.
    public static func banner(for host: SimHost) -> String {
        let warning = """
        WARNING:
           All commands run on the ESXi shell are logged and may be included in
           support bundles. Do not provide passwords directly on the command line.
           Most tools can prompt for secrets or accept them from standard input.


        """
        let tools = host.major >= 9
            ? "VMware offers powerful and supported automation tools. Please\nsee https://developer.vmware.com for details.\n"
            : "VMware offers supported, powerful system administration tools.  Please\nsee www.vmware.com/go/sysadmintools for details.\n"
        return "The time and date of this login have been sent to the system logs.\n\n" + (host.major >= 7 ? warning : "") + tools +
            "\nThe ESXi Shell can be disabled by an administrative user. See the\nvSphere Security documentation for more information.\n"
    }
}
