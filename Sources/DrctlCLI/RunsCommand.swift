import ArgumentParser
import DrctlCore
import Foundation
import Journal

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Recorded runs: list them (the default), or give up an unfinished one.",
        discussion: "Example:\n  drctl runs --runs-dir runs\n  drctl runs abandon 20261126-153012-3f2a --reason \"recovered by hand after the laptop died\"",
        subcommands: [RunsListCommand.self, RunsAbandonCommand.self],
        defaultSubcommand: RunsListCommand.self
    )
}

struct RunsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List recorded runs: id, runbook, start, operator, status, duration.",
        discussion: "Example:\n  drctl runs list --runs-dir runs"
    )

    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory

    func run() throws {
        let runs = RecordedRun.all(in: runsDir)
        guard !runs.isEmpty else {
            print("no runs recorded in \(runsDir)")
            return
        }
        let rows = runs.map { run in
            [run.id, run.runbook, run.started, run.operatorName, run.status, run.durationMilliseconds.map { DurationText.format(.milliseconds($0)) } ?? "-"]
        }
        let headers = ["RUN", "RUNBOOK", "STARTED", "OPERATOR", "STATUS", "DURATION"]
        let widths = headers.indices.map { column in max(headers[column].count, rows.map { $0[column].count }.max() ?? 0) }
        for row in [headers] + rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingBlanks())
        }
    }
}

struct TranscriptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcript",
        abstract: "Check a recorded run's journal.",
        discussion: "Example:\n  drctl transcript show 20261126-153012-3f2a\n  drctl transcript verify 20261126-153012-3f2a",
        subcommands: [TranscriptShowCommand.self, TranscriptVerifyCommand.self, TranscriptKeygenCommand.self]
    )
}

struct TranscriptVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain of a run's journal and name the first broken event.",
        discussion: HelpText.unwrapped("""
        Each journal line carries the SHA-256 of the line before it. An edited, inserted or removed
        line breaks the chain from there on. A last line cut off by a crash is reported, not a break.
        Exits 0 when the chain holds, 1 when it is broken, 2 when the run does not exist.

        Example:
          drctl transcript verify 20261126-153012-3f2a --runs-dir runs
        """)
    )

    @Argument(help: "The run id (a directory under --runs-dir).", completion: Completion.runID) var runID: String
    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory
    @Option(help: "A journal head stored elsewhere (the incident ticket): the journal must still contain it.") var expect: String?
    @Option(help: "The public key (FILE.pub from keygen) whose signatures the checkpoints must carry.") var publicKey: String?

    func run() throws {
        let directory = URL(fileURLWithPath: runsDir).appendingPathComponent(runID)
        let path = directory.appendingPathComponent("journal.jsonl").path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failInvalidInput(["\(path): no such run; `drctl runs --runs-dir \(runsDir)` lists them"])
        }
        let verdict = JournalChain.verify(data, directory: directory)
        if let broken = verdict.broken {
            print("\(path):\(broken.line): BROKEN after \(verdict.intact) intact events: \(broken.reason)")
            throw ExitCode(1)
        }
        print("\(path): chain intact, \(verdict.intact) events, outputs/ files as recorded" + (verdict.tornLastLine ? "; the last line was cut off (the run was killed, or its disk filled, mid-write)" : ""))
        print("head: sha256 \(verdict.head)")
        if let publicKey {
            let signatures: SignatureCheck
            do { signatures = try SignatureCheck.check(data, publicKeyFile: publicKey) } catch { throw failInvalidInput(["--public-key: \(error)"]) }
            if let problem = signatures.problem {
                print("\(path):\(problem.line): SIGNATURE: \(problem.reason); "
                      + (signatures.signedThrough > 0 ? "lines 1-\(signatures.signedThrough) are covered by good signatures" : "no line is covered by a good signature"))
                throw ExitCode(1)
            }
            print("signatures hold: lines 1-\(signatures.signedThrough) are signed by this key"
                  + (signatures.signedThrough < signatures.lines ? "; lines \(signatures.signedThrough + 1)-\(signatures.lines) (from the last checkpoint on) are not covered" : ""))
        }
        guard let expect else {
            if publicKey != nil { return }
            print("Without a head stored elsewhere this proves only that the lines agree with each other: someone with write access could rewrite and re-chain them all. Check with --expect HASH.")
            return
        }
        guard let line = verdict.lineHashes.firstIndex(of: expect.lowercased()) else {
            print("\(path): the head \(expect) is NOT in this journal: it was rewritten since that head was taken (or it is another run's)")
            throw ExitCode(1)
        }
        let after = verdict.intact - (line + 1)
        print("the expected head is line \(line + 1): every line up to it is as it was when that head was taken" + (after > 0 ? "; \(after) events were recorded after it (a resume)" : ""))
    }
}

struct TranscriptShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a recorded run as a readable timeline.",
        discussion: HelpText.unwrapped("""
        Each command with its host, exit status, duration and folded output; approvals with who and
        why, what they were shown and what they unlocked; connection events. Times are UTC (--local:
        this machine's zone), with the offset from the start. --step shows one step with its full output; --json prints the
        journal's entries as a JSON array for machines.

        Example:
          drctl transcript show 20261126-153012-3f2a --step power-on
        """)
    )

    @Argument(help: "The run id (a directory under --runs-dir).", completion: Completion.runID) var runID: String
    @Option(help: "Where runs are recorded.", completion: .directory) var runsDir = defaultRunsDirectory
    @Option(help: "Show only this step, with its full output.") var step: String?
    @Flag(help: "Print the journal entries as JSON.") var json = false
    @Flag(help: "Show times in this machine's time zone instead of UTC.") var local = false

    func run() throws {
        guard let journal = RecordedJournal.load(run: runID, in: runsDir) else {
            throw failInvalidInput(["\(runsDir)/\(runID): no such run; `drctl runs --runs-dir \(runsDir)` lists them"])
        }
        if json {
            let entries = step.map { wanted in journal.entries.filter { $0["step"] as? String == wanted } } ?? journal.entries
            let data = try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(journal.timeline(step: step, fullOutput: step != nil, timeZone: local ? .current : TimeZone(identifier: "UTC")!))
    }
}
