import ArgumentParser
import DrctlCore
import Foundation

/// How `run`, `drill` and `resume` show a run: to people (lines, a status area on a terminal,
/// colour) and, with `--events json`, to machines.
struct OutputFlags: ParsableArguments {
    enum EventFormat: String, ExpressibleByArgument, CaseIterable {
        case json
    }

    @Flag(name: .shortAndLong, help: "Print every command and its output.")
    var verbose = false

    @Flag(help: "No colour (as with NO_COLOR set in the environment).")
    var noColor = false

    @Option(help: ArgumentHelp("Write the run's events to standard output as JSON Lines, for chat-ops and dashboards; the lines for people go to standard error.",
                               valueName: "json"))
    var events: EventFormat?

    @Option(help: "Through a pipe: after this long without a line, write one saying where the run stands (default 30s).")
    var heartbeat: String = "30s"

    func validate() throws {
        guard let interval = DurationText.parse(heartbeat), interval >= .seconds(1) else {
            throw ValidationError("--heartbeat '\(heartbeat)' is not a duration of at least 1s, such as 30s or 2m")
        }
    }

    var heartbeatInterval: Duration { DurationText.parse(heartbeat) ?? .seconds(30) }

    /// Points people's lines where they go and decides on colour; call once, before the run prints.
    func prepareConsole() -> Style {
        if events == .json { Console.shared.sendHumanOutputToStandardError() }
        return Style.forConsole(noColorFlag: noColor)
    }
}
