import Engine
import Foundation
import RunbookFormat
import Simulator
import SSHTransport

/// `drctl drill --via-ssh`: commands go through the real SSH transport to the fleet behind a
/// local sshd; probes, which test the network rather than run commands, are answered from the
/// fleet's state, as the in-process simulator answers them.
struct SimulatorOverSSH: Transport, RunObserver {
    let ssh: SSHTransport
    let fleet: FleetBehindSSHD
    private let steps = StepCompletion()

    init(ssh: SSHTransport, fleet: FleetBehindSSHD) {
        self.ssh = ssh
        self.fleet = fleet
    }

    func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        try await ssh.execute(command, on: host, timeout: timeout)
    }

    func abandonRunningCommands() async { await ssh.abandonRunningCommands() }

    func probe(_ request: ProbeRequest) async -> ProbeResult {
        guard let state = try? fleet.state.read() else { return ProbeResult(state: .down, detail: "the simulator state is unreadable") }
        let answer = SimulatedProbe.answer(request, fleet: state, connectTimeout: .seconds(2))
        if let wait = answer.after { try? await Task.sleep(for: wait) }
        return answer.result
    }

    /// Fires `after_step` faults in the shared state.
    func record(_ event: RunEvent) async {
        switch event {
        case .itemStarted(let step, _): await steps.started(step)
        case .itemFinished(let step, _, _):
            if await steps.finished(step) { _ = try? fleet.state.update { $0.fireDueFaults(finishedStep: step) } }
        default: break
        }
    }
}
