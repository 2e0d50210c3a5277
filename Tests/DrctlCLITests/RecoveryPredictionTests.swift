@testable import DrctlCLI
import DrctlCore
import Engine
import Foundation
import RunbookFormat
import Simulator
import Testing

/// A drill in virtual time predicts when each VM and each priority group is back. These scenarios
/// are small enough to work the times out by hand; the drill must land on them exactly.
@Suite("RTO prediction")
struct RecoveryPredictionTests {
    /// Every command instant except the SSH handshake (1 s, once per host) and power.on (3 s); no jitter.
    static let durations = """
        durations:
          jitter: 0%
          ssh_connect: 1s
          shell: 0s
          vim_cmd_read: 0s
          esxcli_read: 0s
          answer: 0s
          power_on: 3s
        """

    /// One host after a power outage: two P1 guests that boot in 20 s and 40 s, a P2 VM without Tools.
    static let scenario = """
        scenario: predicted
        seed: 5
        \(durations)
        hosts:
          - { name: esxi-01, address: 10.10.0.11 }
        datastores:
          - { name: ds-01 }
        vms:
          - { name: app-a, datastore: ds-01, host: esxi-01, power: off, guest_os: rhel9_64Guest, boot: 20s, priority: 1 }
          - { name: app-b, datastore: ds-01, host: esxi-01, power: off, guest_os: windows2019srv_64Guest, boot: 40s, priority: 1 }
          - { name: legacy, datastore: ds-01, host: esxi-01, power: off, tools: false, priority: 2 }
        expect:
          - { vm: legacy, power: on }
        """

    static func drill(_ scenario: String, _ extra: [String] = []) async throws -> CLI.Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-predict-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("scenario.yaml").path
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        return try await CLI.run(["drill", "Runbooks/power-on-by-priority.yaml", "--scenario", file, "--param", "host=esxi-01", "--auto-approve",
                                  "--runs-dir", directory.appendingPathComponent("runs").path] + extra)
    }

    @Test("P1 is back when its slower guest runs Tools, P2 after a Tools wait that times out: times worked out by hand")
    func handComputed() async throws {
        let result = try await Self.drill(Self.scenario)
        let out = result.stdout
        #expect(result.status == 0, "\(out)")
        // list-vms is the first command: it pays the handshake, 0 → 1 s. Both P1 power-ons run
        // from 1 s (limit 4 per host) and return at 4 s. get.guest every 5 s from 4 s: app-a's
        // guest runs Tools at 24 s (checked at 24 s), app-b's at 44 s. legacy powers on from 44 s
        // to 47 s and is checked until 5 minutes have passed: 47 s + 300 s = 5m47s.
        #expect(out.contains("app-a   on esxi-01 after 24s  powered on; VMware Tools running after 20s"), "\(out)")
        #expect(out.contains("app-b   on esxi-01 after 44s  powered on; VMware Tools running after 40s"), "\(out)")
        #expect(out.contains("P1: back at 44s (2 of 2 VMs)"), "\(out)")
        #expect(out.contains("P2: back at 5m47s (1 of 1 VMs)"), "\(out)")
        #expect(out.contains("legacy: powered on, but VMware Tools not running after 5m00s (toolsNotInstalled)"), "\(out)")
        #expect(out.contains("Whole recovery: 5m47s against the RTO of 20m00s: met"), "\(out)")
        // The chain that set the total: the listing, the approval, the slower P1 guest, then legacy.
        let path = out.components(separatedBy: "Critical path").last ?? ""
        #expect(path.contains("0ms     → 1s      list-vms"), "\(path)")
        #expect(path.contains("1s      → 44s     power-on [app-b]"), "\(path)")
        #expect(path.contains("44s     → 5m47s   power-on [legacy]"), "\(path)")
        #expect(!path.contains("app-a"), "the faster guest did not set the total")
        // The record keeps the prediction: drctl report shows it.
        let runs = try #require(out.firstMatch(of: /recorded in (\S+)\/(\d{8}-\d{6}-[0-9a-f]+)\)/))
        let report = try await CLI.run(["report", String(runs.2), "--runs-dir", String(runs.1)]).stdout
        #expect(report.contains("## Predicted recovery") && report.contains("P2: back at 5m47s (1 of 1 VMs)"), "\(report)")
    }

    @Test("without the wait for Tools the prediction is the power-ons alone")
    func noToolsWait() async throws {
        let out = try await Self.drill(Self.scenario, ["--param", "tools_timeout=0s"]).stdout
        // 1 s handshake, P1 from 1 s to 4 s, P2 from 4 s to 7 s.
        #expect(out.contains("P1: back at 4s (2 of 2 VMs)"), "\(out)")
        #expect(out.contains("P2: back at 7s (1 of 1 VMs)"), "\(out)")
        #expect(!out.contains("VMware Tools"), "not waited for, so not reported")
    }

    @Test("the same seed predicts the same times; the seed's jitter moves them")
    func seededJitter() async throws {
        let jittery = Self.scenario.replacingOccurrences(of: "jitter: 0%", with: "jitter: 30%")
        let first = try await Self.drill(jittery).stdout
        let again = try await Self.drill(jittery).stdout
        func groups(_ text: String) -> [String] { text.split(separator: "\n").filter { $0.hasPrefix("  P") }.map(String.init) }
        #expect(groups(first) == groups(again), "\(groups(first)) vs \(groups(again))")
        #expect(groups(first) != groups(try await Self.drill(jittery, ["--seed", "6"]).stdout))
    }

    @Test("a run that succeeded says beside it which guests never started VMware Tools: powered on is not proven usable")
    func summaryNamesUnreadyGuests() async throws {
        let scenario = try ScenarioLoader.load(text: Self.scenario, file: "predicted.yaml")
        let runbook = try RunbookLoader.load(path: "Runbooks/power-on-by-priority.yaml")
        let clock = VirtualClock()
        var fleet = scenario.fleet
        fleet.timing = scenario.durations
        let transport = SimulatorTransport(simulator: FleetSimulator(fleet: fleet, clock: clock))
        var options = RunOptions()
        options.clock = clock
        let params = try ParameterBinding.bind(runbook, try ParameterBinding.parsePairs(["host=esxi-01"]), inventory: scenario.inventory)
        let summary = await Engine(runbook: runbook, inventory: scenario.inventory, params: params, transport: transport,
                                   gate: AutoApproveGate(approver: "tester"), observers: [transport], options: options).run()
        #expect(summary.outcome == .succeeded)
        #expect(SummaryPrinter.summary(summary).contains("! VMware Tools did not start in legacy: powered on, but check their consoles"))
    }
}
