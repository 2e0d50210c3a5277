import ArgumentParser
import Foundation
import Journal

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained report of a recorded run for a reviewer or auditor.",
        discussion: HelpText.unwrapped("""
        Built from the run's journal alone: summary and parameters, approvals (who, when, why),
        a timeline of steps per host (an inline SVG Gantt chart in HTML), time to recovery per VM
        and the RTO achieved against the runbook's target, the failures with their output, and
        the verdict of the journal's hash chain. A drill's report also shows the RTO of every
        earlier drill of the same runbook in the runs directory (the trend).

        Example:
          drctl report 20261126-145800-3f2a --format html -o drill.html
        """)
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, html
    }

    @Argument(help: "The run id (see drctl runs).", completion: Completion.runID) var runID: String
    @Option(help: "md or html.") var format: Format = .md
    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.", completion: .file()) var output: String?
    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory

    func run() throws {
        let report: RunReport
        do {
            report = try RunReport(run: runID, runsDirectory: runsDir)
        } catch {
            throw failInvalidInput(["drctl report: \(error)"])
        }
        let text = format == .md ? report.markdown : report.html
        guard let output else {
            print(text)
            return
        }
        // Written whole or not at all: a reader never finds half a report.
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw failInvalidInput(["drctl report: cannot write \(output): \(error.localizedDescription)"])
        }
        print("wrote \(output)")
    }
}
