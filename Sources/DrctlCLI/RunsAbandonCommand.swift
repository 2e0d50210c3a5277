import DrctlCore
import ArgumentParser
import Foundation
import Journal

struct RunsAbandonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abandon",
        abstract: "Give up an unfinished run: it is not resumed any more, and its host leases are released.",
        discussion: HelpText.unwrapped("""
        An unfinished run (paused at an approval, interrupted, killed) keeps its leases on the
        inventory's hosts, so no second run changes them meanwhile. When nobody will resume it,
        abandon it, saying why: the reason and who gave it are recorded in its journal.

        Example:
          drctl runs abandon 20261126-153012-3f2a --reason "finished by hand from the ESXi console"
        """)
    )

    @Argument(help: "The run to give up.", completion: Completion.runID) var runID: String
    @Option(help: "Why (recorded in the run's journal).") var reason: String
    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory

    func validate() throws {
        if reason.trimmingBlanks().isEmpty { throw ValidationError("--reason must say why the run is given up") }
    }

    func run() async throws {
        do {
            let directory = try RunDirectory.existing(id: runID, in: runsDir)
            // A run still going in another process is not abandoned under it.
            let lock = try directory.lock()
            let repair = try JournalRepair.inspect(directory)
            let journal = try JournalWriter(continuing: directory, holding: lock, after: repair)
            await journal.recordAbandoned(reason: reason)
            await journal.close()
        } catch {
            throw failInvalidInput(["drctl runs abandon: \(error)"])
        }
        HostLeases(runsDirectory: runsDir).release(run: runID)
        print("run \(runID) abandoned (\(reason)); its host leases are released")
    }
}
