import DrctlCore
import ArgumentParser

/// `drctl deny RUN STEP --reason TEXT`: denies, from any terminal, an approval a run waits at.
struct DenyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny an approval step of a run, from another terminal or as another person.",
        discussion: HelpText.unwrapped("""
        The steps behind the approval do not run. The run waiting there takes the decision within a
        second; a stopped run takes it on `drctl resume RUN`. Recorded with your OS account.

        Example:
          drctl deny 20261126-145800-3f2a approve-recovery --reason "the array is rebuilding; wait for storage"
        """)
    )

    @OptionGroup var decision: RemoteDecision
    @Option(help: "Why you deny (required, recorded).") var reason: String

    func validate() throws {
        if reason.trimmingBlanks().isEmpty { throw ValidationError("--reason must say why") }
    }

    func run() throws {
        try decision.post(approve: false, reason: reason)
    }
}
