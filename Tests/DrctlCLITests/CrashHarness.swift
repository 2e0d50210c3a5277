import Foundation
import Simulator
import Testing

/// Starts drills as separate processes, kills them (at a failpoint or after a delay) with
/// SIGKILL, resumes them, and reads what the simulated hosts saw.
struct CrashHarness {
    struct Drill: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var testDescription: String { name }
    }

    static let drills = [
        Drill(name: "host-failure", arguments: ["Runbooks/host-failure.yaml", "--scenario", "Simulator/host-failure.yaml", "--param", "failed_host=esxi-01"]),
        Drill(name: "datastore-failure", arguments: ["Runbooks/datastore-failure.yaml", "--scenario", "Simulator/datastore-failure.yaml",
                                                     "--param", "datastore=ds-gold", "--param", "return_timeout=10m"]),
        Drill(name: "vcenter-loss", arguments: ["Runbooks/vcenter-loss.yaml", "--scenario", "Simulator/vcenter-loss.yaml",
                                                "--param", "vcenter=vcsa", "--param", "appliance_vm=vcsa-01"]),
    ]

    let runsDirectory: String

    init() {
        runsDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-crash-\(UUID().uuidString.prefix(8))").path
    }

    enum Ending: Equatable {
        case exited(Int32)
        case killed
    }

    /// Runs the drill; with `failpoint` it kills itself there; with `killAtLine` it is killed from
    /// outside once its journal holds that many lines, plus `killAfter`. Returns how it ended.
    func start(_ drill: Drill, failpoint: String? = nil, killAtLine: Int? = nil, killAfter: Duration = .zero, runbook: String? = nil) async throws -> Ending {
        var arguments = ["drill"] + drill.arguments + ["--auto-approve", "--runs-dir", runsDirectory]
        if let runbook { arguments[1] = runbook }
        return try await Self.spawn(arguments, environment: failpoint.map { ["DRCTL_FAILPOINT": $0] } ?? [:],
                                    killAfter: killAtLine == nil ? nil : killAfter,
                                    startedWhen: { [runsDirectory] in Self.journalLines(in: runsDirectory) >= killAtLine ?? 0 })
    }

    /// How many lines the journal of the run under the directory holds so far.
    static func journalLines(in runsDirectory: String) -> Int {
        guard let run = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory))?.first,
              let data = FileManager.default.contents(atPath: "\(runsDirectory)/\(run)/journal.jsonl") else { return 0 }
        return data.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
    }

    /// The journal of the run under the directory, as written so far.
    static func journalText(in runsDirectory: String) -> String {
        guard let run = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory))?.first(where: { $0 != "leases" }),
              let data = FileManager.default.contents(atPath: "\(runsDirectory)/\(run)/journal.jsonl") else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether a run under the directory has written its first journal line.
    static func journalBegun(in runsDirectory: String) -> Bool {
        journalLines(in: runsDirectory) > 0
    }

    /// Runs drctl; with `killAfter`, SIGKILLs it that long after `startedWhen` first holds (at
    /// once when there is no such condition): measured in journal progress, the instant stays
    /// inside the run however loaded the machine is. Never waits on Swift's cooperative pool.
    static func spawn(_ arguments: [String], environment: [String: String] = [:], killAfter: Duration? = nil,
                      startedWhen: (@Sendable () -> Bool)? = nil) async throws -> Ending {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: CLI.binary)
                    process.arguments = arguments
                    process.currentDirectoryURL = CLI.root
                    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    if let killAfter {
                        while let startedWhen, process.isRunning, !startedWhen() { Thread.sleep(forTimeInterval: 0.001) }
                        Thread.sleep(forTimeInterval: Double(killAfter.components.seconds) + Double(killAfter.components.attoseconds) / 1e18)
                        kill(process.processIdentifier, SIGKILL)
                    }
                    process.waitUntilExit()
                    continuation.resume(returning: process.terminationReason == .uncaughtSignal ? .killed : .exited(process.terminationStatus))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// The one run recorded here.
    var runID: String? {
        (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory))?.first
    }

    var journalTypes: [String] {
        guard let runID, let text = try? String(contentsOfFile: "\(runsDirectory)/\(runID)/journal.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["type"] as? String
        }
    }

    var journalText: String {
        guard let runID else { return "" }
        return (try? String(contentsOfFile: "\(runsDirectory)/\(runID)/journal.jsonl", encoding: .utf8)) ?? ""
    }

    func resume(_ extra: [String] = ["--auto-approve"]) async throws -> CLI.Result {
        try await CLI.run(["resume", runID ?? "none", "--runs-dir", runsDirectory] + extra)
    }

    /// Every change the simulated hosts applied, in order (`host: change`).
    /// Read as `drctl resume` reads it: the snapshot and the changes logged after it.
    var changeLog: [String] {
        guard let runID, let fleet = try? StateFile(path: "\(runsDirectory)/\(runID)/fleet.json").read() else { return [] }
        return fleet.changeLog
    }

    /// Changes applied more often than an uninterrupted drill applies them: a repeated ESXi change.
    /// Rescans are left out: a wait step repeats its rescan until the LUN returns by design, so
    /// how many it takes depends on timing (the simulated LUN returns after N rescans in all).
    static func repeated(_ changes: [String], reference: [String]) -> [String] {
        let counted = { (log: [String]) in log.filter { !$0.hasSuffix(": rescan") } }
        let allowed = Dictionary(counted(reference).map { ($0, 1) }, uniquingKeysWith: +)
        let seen = Dictionary(counted(changes).map { ($0, 1) }, uniquingKeysWith: +)
        return seen.filter { $0.value > allowed[$0.key, default: 0] }.map { "\($0.key) ×\($0.value)" }.sorted()
    }

    /// The changes of the drill run through without interruption.
    static func reference(_ drill: Drill) async throws -> [String] {
        let harness = CrashHarness()
        let ending = try await harness.start(drill)
        #expect(ending == .exited(0), "the uninterrupted \(drill.name) drill must pass")
        return harness.changeLog
    }
}

