import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// Lets typed ESXi actions run their commands through the engine's transport, reporting each
/// command as an event and keeping what it printed as evidence for failures.
final class HostShell: ESXiShell, @unchecked Sendable {
    let transport: any Transport
    let host: Inventory.Host
    var hostName: String { host.name }
    let step: String
    let item: ItemRef
    let mutates: Bool
    let events: EventSink
    /// Typed actions parse what a command printed: output too large to hold (spooled) is refused,
    /// never parsed in part. `run:` steps see its first part; the whole is in the record.
    let parsesOutput: Bool
    private let lock = NSLock()
    private var transcript: [String] = []

    init(transport: any Transport, host: Inventory.Host, step: String, item: ItemRef, mutates: Bool, events: EventSink, clock: any RunClock,
         parsesOutput: Bool = true) {
        self.parsesOutput = parsesOutput
        self.clock = clock
        self.transport = transport
        self.host = host
        self.step = step
        self.item = item
        self.mutates = mutates
        self.events = events
    }

    /// The run's clock, also outside an attempt (a resumed run's verify reads): an action that
    /// polls sleeps on it.
    let clock: any RunClock

    func run(_ command: String) async throws -> ShellOutput {
        // A secret masked in the journal cannot be read back: the mask is never sent as if it were the value.
        if command.includes(Redactor.mask) {
            throw MaskedValue(step: step, command: command)
        }
        let changes = mutates && !ESXiCommand.onlyReads(command)
        await events.emit(.commandSent(step: step, item: item, host: host.name, command: command, mutates: changes))
        // A change is sent only once its line is on disk: with the record lost, it is not sent at all.
        if changes, let lost = await events.recordLost() { throw RecordLost(reason: lost) }
        let output: CommandResult
        do {
            // The transport ends the command at the attempt's deadline itself (SSH closes its channel).
            let result = try await transport.execute(command, on: host, timeout: AttemptDeadline.current.map { max(.zero, $0.at - $0.clock.elapsed) })
            await events.emit(.commandFinished(step: step, item: item, host: host.name, command: command, result: result))
            note("$ \(command)\n\(result.stdout)\(result.stderr)")
            output = result
        } catch {
            let text = error is CancellationError ? "timed out: drctl stopped waiting; it may still be running on the host" : "\(error)"
            await events.emit(.commandFailed(step: step, item: item, host: host.name, command: command, error: text))
            note("$ \(command)\n\(error)")
            throw error
        }
        if parsesOutput, let spooled = output.stdoutSpool {
            throw StepRunner.AttemptFailure(reason: "`\(command)` printed \(spooled.bytes) bytes, more than drctl reads (\(SpooledOutput.memoryLimit / 1024 / 1024) MB); "
                                            + "the whole output is kept in the run's outputs/", evidence: evidence)
        }
        return ShellOutput(stdout: output.stdout, stderr: output.stderr, exitStatus: output.exitStatus)
    }

    /// The commands sent and what they printed, most recent last.
    var evidence: String {
        lock.lock()
        defer { lock.unlock() }
        return transcript.suffix(4).joined(separator: "\n")
    }

    private func note(_ text: String) {
        lock.lock()
        transcript.append(text)
        lock.unlock()
    }
}

/// When the attempt running this task gives up: commands are sent with what is left of it.
struct AttemptDeadline: Sendable {
    /// On the run's clock.
    var at: Duration
    var clock: any RunClock

    @TaskLocal static var current: AttemptDeadline?
}

/// Delivers events to every observer, in order, before the caller goes on.
struct EventSink: Sendable {
    let observers: [any RunObserver]

    func emit(_ event: RunEvent) async {
        for observer in observers { await observer.record(event) }
    }

    func recordLost() async -> String? {
        for observer in observers { if let lost = await observer.recordLost() { return lost } }
        return nil
    }
}

/// A command that would carry a value the journal masked (a resumed run reads recorded outputs).
public struct MaskedValue: StopsTheAction, Sendable, CustomStringConvertible {
    public var step: String
    public var command: String
    public var description: String {
        "step '\(step)' would send \(Redactor.mask) to the host: a value it reads was masked in the run's journal and cannot be read back; "
            + "nothing was sent. Run the step that produces it again (start a new run), or give the value as a param"
    }
}

/// The run's record could not be written: nothing more is changed.
public struct RecordLost: StopsTheAction, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "not sent: the run's record cannot be written (\(reason)), so drctl changes nothing more" }
}
