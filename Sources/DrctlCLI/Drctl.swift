import CProcessHardening
import ArgumentParser
import Foundation
import RunbookFormat

/// The `drctl` command: one subcommand per file in this module.
public struct Drctl: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "drctl",
        abstract: "Run disaster-recovery runbooks against VMware ESXi hosts, directly over SSH.",
        discussion: HelpText.unwrapped("""
        Exit codes:
          0    succeeded (a drill: passed)
          1    failed: a step failed or the goal does not hold (a drill: failed)
          2    invalid input (the message names file:line:col)
          3    stopped at an approval (drctl approve, then drctl resume)
          4    partial: part of the goal holds
          5    handed off: what was not recovered went to a manual step
          6    the run's record could not be written (a full disk)
          130  interrupted (Ctrl-C), paused and resumable
          143  terminated (SIGTERM), paused and resumable

        Start with:
          drctl validate Runbooks/host-failure.yaml
          drctl run Runbooks/host-failure.yaml --inventory site.yaml --dry-run
        """),
        version: version,
        subcommands: [ValidateCommand.self, ShowCommand.self, RunCommand.self, GraphCommand.self, ActionsCommand.self, DrillCommand.self, WhatIfCommand.self, SSHCheckCommand.self, RunsCommand.self, ResumeCommand.self, ApproveCommand.self, DenyCommand.self, ReportCommand.self, TranscriptCommand.self, SimCommand.self]
    )

    public init() {}

    /// Parses the command line and runs; usage errors exit 2 (invalid input), not 64.
    public static func runFromCommandLine() async {
        // Passwords and passphrases may be read into memory: no core dump may carry them off.
        _ = DrillCommand.executablePath
        _ = drctl_forbid_core_dumps()
        if let problem = unknownSubcommand(Array(CommandLine.arguments.dropFirst())) {
            writeToStandardError(problem + "\n")
            Foundation.exit(ExitStatus.invalidInput)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            writeToStandardError(fullMessage(for: error) + "\n")
            Foundation.exit(ExitStatus.invalidInput)
        }
    }
}

extension Drctl {
    /// `drctl drlil ...`: the command it does not know, the closest one it does, and the list.
    static func unknownSubcommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        guard !names.contains(first) else { return nil }
        return "Error: drctl has no command '\(first)'\(Suggestion.hint(for: first, among: names)). Its commands are: "
            + names.joined(separator: ", ") + ". See 'drctl --help'."
    }
}

/// The exit codes the CLI sets itself; the others (0, 1, 3) come from `RunSummary.exitCode`.
public enum ExitStatus {
    public static let invalidInput: Int32 = 2
    public static let interrupted: Int32 = 130
    /// SIGTERM: paused like Ctrl-C, resumable.
    public static let terminated: Int32 = 143
}

/// Prints problems with input files, one `file:line:col: message` per line, and exits 2.
func failInvalidInput(_ lines: [String]) -> ExitCode {
    let text = lines.joined(separator: "\n") + "\n"
    writeToStandardError(text)
    return ExitCode(ExitStatus.invalidInput)
}

func writeError(_ text: String) {
    writeToStandardError(text.hasSuffix("\n") ? text : text + "\n")
}
