import ArgumentParser

/// `drctl approve RUN STEP`: approves, from any terminal, an approval a run waits at (or stopped at).
struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve an approval step of a run, from another terminal or as another person.",
        discussion: HelpText.unwrapped("""
        The run waiting at that approval takes the decision within a second; a run that stopped
        there (exit 3) takes it on `drctl resume RUN`. Recorded with your OS account. An approval
        with approvers: or distinct_from_operator: refuses people it does not allow.

        Example:
          drctl approve 20261126-145800-3f2a approve-recovery --reason "zoning checked with storage team"
        """)
    )

    @OptionGroup var decision: RemoteDecision
    @Option(help: "Why you approve (recorded).") var reason = ""

    func run() throws {
        try decision.post(approve: true, reason: reason)
    }
}
