@testable import DrctlCLI
import DrctlCore
import Engine
import Foundation
import Testing

/// What the person watching a run sees between its log lines: the status area on a terminal,
/// timestamped lines and heartbeats through a pipe, JSON Lines for machines.
@Suite("live progress")
struct LiveProgressTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    /// A run 3m12s in: two hosts running commands, a wait on a third, an approval open.
    static func busyRun() -> RunProgress {
        let progress = RunProgress(stepsTotal: 9, rto: .seconds(30 * 60), started: start)
        let item = { (label: String, index: Int) in ItemRef(index: index, label: label) }
        progress.take(.stepExpanded(step: "scope", items: 1), at: start)
        progress.take(.itemFinished(step: "scope", item: .single, outcome: outcome(.succeeded)), at: start)
        progress.take(.stepExpanded(step: "power-on", items: 4), at: start)
        progress.take(.commandSent(step: "power-on", item: item("web-01", 0), host: "esxi-02", command: "vim-cmd vmsvc/power.on 12", mutates: true),
                      at: start.addingTimeInterval(188))
        progress.take(.commandSent(step: "power-on", item: item("web-02", 1), host: "esxi-02", command: "vim-cmd vmsvc/power.on 13", mutates: true),
                      at: start.addingTimeInterval(190))
        progress.take(.commandSent(step: "rescan", item: .single, host: "esxi-03", command: "esxcli storage core adapter rescan --all", mutates: true),
                      at: start.addingTimeInterval(151))
        progress.take(.commandSent(step: "power-on", item: item("db-01", 2), host: "esxi-02", command: "vim-cmd vmsvc/power.on 14", mutates: true),
                      at: start.addingTimeInterval(150))
        progress.take(.commandFinished(step: "power-on", item: item("db-01", 2), host: "esxi-02", command: "vim-cmd vmsvc/power.on 14",
                                       result: CommandResult(stdout: "", stderr: "", exitStatus: 0)), at: start.addingTimeInterval(160))
        progress.take(.itemFinished(step: "power-on", item: item("db-01", 2), outcome: outcome(.failed)), at: start.addingTimeInterval(160))
        progress.take(.waitChecked(step: "lun-back", item: item("ds-gold", 0), host: "esxi-04", check: 5, holds: false,
                                   detail: "the last check gave mounted=false", deadline: start.addingTimeInterval(900)), at: start.addingTimeInterval(185))
        progress.take(.approvalRequested(step: "approve-power-on", prompt: "Power on?", shown: [], unlocks: []), at: start)
        return progress
    }

    static func outcome(_ status: ItemOutcome.Status) -> ItemOutcome {
        ItemOutcome(status: status, hosts: [], started: nil, duration: .zero, attempts: 1, reason: nil, evidence: nil, outputs: [:])
    }

    @Test("the status area: progress against the RTO, each host's running commands with their time, waits with deadline and last check, open approvals")
    func statusArea() {
        let lines = StatusLines.area(Self.busyRun().snapshot(), now: Self.start.addingTimeInterval(192), columns: 200)
        #expect(lines == [
            "── 3m12s elapsed · RTO 30m: 26m48s left · steps 1/9 · items 2/5 · 1 failed",
            "   esxi-02         4s  power-on [web-01]: vim-cmd vmsvc/power.on 12",
            "                   2s  power-on [web-02]: vim-cmd vmsvc/power.on 13",
            "   esxi-03        41s  rescan: esxcli storage core adapter rescan --all",
            "   ⧗ lun-back [ds-gold] on esxi-04: check 5 at 08:03:05Z not yet; deadline 08:15:00Z (11m48s left); last: mounted=false",
            "   ? approve-power-on waits for approval",
        ])
    }

    @Test("no status line wraps: each is cut to the terminal's width, colour codes taking no columns")
    func fitsTheTerminal() {
        let lines = StatusLines.area(Self.busyRun().snapshot(), now: Self.start.addingTimeInterval(192), columns: 40, style: Style(coloured: true))
        for line in lines {
            let visible = line.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
            #expect(visible.count <= 39, "\(visible)")
        }
        #expect(lines[0].hasSuffix("…\u{1B}[0m"), "a cut coloured line ends its colour")
    }

    @Test("a terminal made narrower wraps the status area drawn for the wider one: erasing it counts the rows it takes now")
    func resizedTerminal() {
        // Drawn on 100 columns (lines of 99, 40 and 80), then the window is 40 columns wide.
        #expect(Console.rows(widths: [99, 40, 80], columns: 100) == 3)
        #expect(Console.rows(widths: [99, 40, 80], columns: 40) == 3 + 1 + 2, "99 columns take 3 rows of 40, 80 take 2")
        #expect(Console.rows(widths: [0], columns: 40) == 1, "an empty line is still a row")
        let line = "\u{1B}[1m" + String(repeating: "x", count: 10) + "\u{1B}[0m"
        #expect(StatusLines.visibleWidth(line) == 10, "colour codes take no columns")
    }

    @Test("a wait's repeated checks print one line when it starts repeating and one when it ends, not a line per check", .timeLimit(.minutes(2)))
    func quietWaits() async throws {
        let result = try await CLI.run(["drill"] + datastoreFailureDrill + ["--scenario", "Simulator/datastore-never-returns.yaml", "--auto-approve"])
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.filter { $0.contains("→ rescan on esxi-01: esxcli storage core adapter rescan --all") }.count == 1, "the check's command, once")
        #expect(lines.filter { $0.contains("⧗ rescan on esxi-01: not yet") }.count == 1)
        #expect(lines.contains { $0.contains("rescan on esxi-01, esxi-02, esxi-03 failed-continued") && $0.contains("checks)") }, "the end, with the count")
    }

    @Test("past the RTO the headline says by how much")
    func pastTheRTO() {
        let line = StatusLines.heartbeat(Self.busyRun().snapshot(), now: Self.start.addingTimeInterval(31 * 60))
        #expect(line.hasPrefix("… 31m elapsed · RTO 30m passed 1m ago"), "\(line)")
    }

    @Test("a heartbeat line says where the run stands, what runs longest and what it waits for")
    func heartbeat() {
        let line = StatusLines.heartbeat(Self.busyRun().snapshot(), now: Self.start.addingTimeInterval(192))
        #expect(line == "… 3m12s elapsed · RTO 30m: 26m48s left · steps 1/9 · items 2/5 · 1 failed"
                + " · running 3 commands on 2 hosts (longest: rescan on esxi-03, 41s)"
                + " · waiting: lun-back [ds-gold] on esxi-04: check 5 at 08:03:05Z not yet; deadline 08:15:00Z (11m48s left); last: mounted=false"
                + " · approve-power-on waits for approval")
    }

    @Test("the status area masks secrets and shows control characters in names and commands as escapes")
    func masksAndEscapes() {
        let redactor = Redactor()
        redactor.register("hunter2-long-secret")
        let progress = RunProgress(stepsTotal: 1, rto: nil, started: Self.start, redactor: redactor)
        progress.take(.commandSent(step: "login", item: ItemRef(index: 0, label: "evil\u{1B}[2J"), host: "esxi-01",
                                   command: "echo hunter2-long-secret | vim-cmd x", mutates: true), at: Self.start)
        let text = StatusLines.area(progress.snapshot(), now: Self.start.addingTimeInterval(1), columns: 200).joined(separator: "\n")
            + StatusLines.heartbeat(progress.snapshot(), now: Self.start.addingTimeInterval(1))
        #expect(!text.contains("hunter2-long-secret") && text.contains("echo [redacted] | vim-cmd x"), "\(text)")
        #expect(!text.contains("\u{1B}") && text.contains(#"evil\e[2J"#), "\(text)")
    }

    @Test("times in the status area are the run's clock: in a drill's virtual time, a command starts at the virtual instant")
    func runsClock() async {
        let clock = VirtualClock(origin: Self.start)
        let progress = RunProgress(stepsTotal: 1, rto: .seconds(60), started: Self.start, clock: clock)
        await progress.record(.commandSent(step: "power-on", item: .single, host: "esxi-01", command: "vim-cmd vmsvc/power.on 1", mutates: true))
        let lines = StatusLines.area(progress.snapshot(), now: clock.date(), columns: 200)
        #expect(lines[0].hasPrefix("── 0s elapsed · RTO 1m: 1m left"), "\(lines)")
        #expect(lines[1].contains("0s  power-on: vim-cmd vmsvc/power.on 1"), "\(lines)")
    }

    @Test("a wait that holds, and a finished item, leave the status area")
    func waitsEnd() {
        let progress = Self.busyRun()
        progress.take(.waitChecked(step: "lun-back", item: ItemRef(index: 0, label: "ds-gold"), host: "esxi-04", check: 6, holds: true,
                                   detail: "", deadline: Self.start.addingTimeInterval(900)), at: Self.start.addingTimeInterval(240))
        progress.take(.approvalDecided(step: "approve-power-on", decision: .approved(by: "alice", reason: "")), at: Self.start.addingTimeInterval(240))
        let snapshot = progress.snapshot()
        #expect(snapshot.waits.isEmpty)
        #expect(snapshot.approvals.isEmpty)
    }
}

@Suite("live progress of a drill")
struct LiveDrillProgressTests {
    /// The datastore never returns and its wait allows 10 minutes: in real time, the run is alive
    /// and quiet between checks (every 5 s) until the test stops it.
    /// ESXi's own durations left out (`durations: none`): `--real-time` would otherwise sit
    /// through each of them, and these tests watch the display, not the pacing.
    static let neverReturns = ["drill", "Runbooks/datastore-failure.yaml", "--scenario", quickScenario,
                               "--param", "datastore=ds-gold", "--param", "return_timeout=10m", "--auto-approve", "--real-time"]
    static let quickScenario = (try? CLI.temporaryFile("never-returns-quick.yaml", """
        scenario: never-returns-quick
        base: \(CLI.root.path)/Simulator/datastore-failure.yaml
        faults:
          - { datastore_returns: { datastore: ds-gold, never: true } }
        expect_outcome: handed off
        durations: none
        """)) ?? "Simulator/datastore-never-returns.yaml"

    @Test("through a pipe: each line arrives as it happens, with its UTC time, and a heartbeat comes during a long wait")
    func pipedLines() async throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-piped-\(UUID().uuidString.prefix(6))").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = Self.neverReturns + ["--heartbeat", "1s", "--runs-dir", runs]
        process.currentDirectoryURL = CLI.root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read while the run is alive: what is read before the test stops it proves lines are
        // not held back until exit. Stopped by the test once a heartbeat came during the wait (on
        // a loaded machine another may come earlier, between steps).
        let seen: String = await withCheckedContinuation { continuation in
            Thread {
                var text = ""
                let handle = output.fileHandleForReading
                while !text.contains("waiting: rescan on esxi-0") || !text.hasSuffix("\n") {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                continuation.resume(returning: text)
            }.start()
        }
        #expect(process.isRunning, "the lines came while the run went on")
        kill(process.processIdentifier, SIGINT)
        let rest: String = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) }.start()
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(seen)\(rest)")
        let logLines = seen.split(separator: "\n").filter { $0.contains(" ✓ ") || $0.contains(" → ") || $0.hasPrefix("20") }
        #expect(logLines.count >= 5, "\(seen)")
        for line in logLines {
            #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (  )?[✓→?…!✗=~⧗]"#, options: .regularExpression) != nil, "\(line)")
        }
        let beat = try #require(seen.split(separator: "\n").first { $0.contains(" … ") && $0.contains("waiting:") })
        #expect(beat.contains("elapsed · RTO 45m"), "\(beat)")
        #expect(beat.contains("waiting: rescan on esxi-0"), "\(beat)")
        #expect(beat.contains("deadline"), "\(beat)")
        #expect(!seen.contains("\u{1B}"), "no escape sequence goes into a pipe")
    }

    @Test("on a terminal: a status area under the lines, in colour; none with NO_COLOR or --no-color")
    func terminal() async throws {
        // An empty NO_COLOR counts as unset (no-color.org); the test runner may set one of its own.
        for (environment, flags, coloured) in [(["NO_COLOR": ""], [String](), true), (["NO_COLOR": "1"], [], false), (["NO_COLOR": ""], ["--no-color"], false)] {
            let runs = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-tty-\(UUID().uuidString.prefix(6))").path
            let terminal = try PseudoTerminal.spawn(CLI.binary, Self.neverReturns + flags + ["--runs-dir", runs], environment: environment)
            defer { terminal.close() }
            let screen = try await terminal.read(until: "deadline")
            #expect(screen.contains("elapsed · RTO 45m"), "\(screen)")
            #expect(screen.contains("⧗"), "\(screen)")
            #expect(screen.contains("\u{1B}[J"), "the area is erased before it is drawn again")
            #expect(screen.contains("\u{1B}[32m✓") == coloured, "\(environment) \(flags): \(screen)")
            kill(terminal.process.processIdentifier, SIGINT)
            // Read on: a terminal nobody reads stops the program writing to it.
            _ = try await terminal.read(until: "To go on from here")
            #expect(await terminal.waitForExit() == 130)
        }
    }

    @Test("--events json: standard output is one JSON object per event, in order; people's lines go to standard error")
    func eventsAsJSON() async throws {
        let result = try await CLI.run(["drill", "Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml",
                                        "--param", "failed_host=esxi-01", "--auto-approve", "--events", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let events = try result.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        let types = events.compactMap { $0["type"] as? String }
        #expect(types.first == "run-started")
        #expect(types.last == "run-ended")
        #expect(types.contains("command-sent") && types.contains("command-finished") && types.contains("approval-given"))
        #expect(events.allSatisfy { $0["run"] is String && $0["time"] is String })
        let finished = try #require(events.first { $0["type"] as? String == "command-finished" })
        #expect(finished["stdout"] is String, "outputs are inline for machines")
        #expect(result.stderr.contains("✓ register"), "\(result.stderr)")
        #expect(result.stderr.contains("Drill verdict") || result.stderr.contains("drill"), "\(result.stderr)")
    }
}
