import DrctlCore
import Foundation
import Testing
@testable import Simulator

/// The drill's state file: each change logged after a snapshot, read back as the simulator left it.
@Suite("simulator state file")
struct StateFileTests {
    func temporaryState() throws -> StateFile {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-state-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return StateFile(path: directory.appendingPathComponent("fleet.json").path)
    }

    @Test("changes go to the log, not a rewrite of the whole fleet; reading replays them over the snapshot")
    func changesAreLogged() async throws {
        let state = try temporaryState()
        let fleet = try sampleFleet()
        try state.create(fleet)
        let snapshot = try Data(contentsOf: URL(fileURLWithPath: state.path))
        let simulator = FleetSimulator(fleet: fleet, savingTo: state)
        _ = try await simulator.execute("vim-cmd solo/registervm '/vmfs/volumes/ds-shared-01/app (old)/app (old).vmx'", on: "esxi-02", timeout: nil)
        _ = try await simulator.execute("vim-cmd vmsvc/getallvms", on: "esxi-02", timeout: nil)
        let listing = try await simulator.execute("vim-cmd vmsvc/getallvms", on: "esxi-02", timeout: nil).stdout
        let vmid = try #require(listing.split(separator: "\n").first { $0.contains("app (old)") }?.split(separator: " ").first)
        _ = try await simulator.execute("vim-cmd vmsvc/power.on \(vmid)", on: "esxi-02", timeout: nil)
        #expect(try Data(contentsOf: URL(fileURLWithPath: state.path)) == snapshot, "the snapshot is not rewritten per change")
        let logged = try String(contentsOfFile: state.path + ".log", encoding: .utf8).split(separator: "\n")
        #expect(logged.count == 2, "the registration and the power-on; reads that changed nothing are not logged: \(logged)")
        let read = try state.read()
        let live = await simulator.fleet
        #expect(read.changeLog == live.changeLog)
        #expect(read.vms == live.vms)
        #expect(read.changeLog.suffix(2) == ["esxi-02: registervm app (old)", "esxi-02: power.on app (old)"])
    }

    @Test("every 256 changes a snapshot replaces the log; a log line the snapshot already holds is not applied twice")
    func snapshotsReplaceTheLog() async throws {
        let state = try temporaryState()
        var fleet = try sampleFleet()
        try state.create(fleet)
        let simulator = FleetSimulator(fleet: fleet, savingTo: state)
        // A change each: power off and on again, 128 times.
        let listing = try await simulator.execute("vim-cmd vmsvc/getallvms", on: "esxi-01", timeout: nil).stdout
        let vmid = try #require(listing.split(separator: "\n").first { $0.contains("web") }?.split(separator: " ").first)
        for _ in 0..<128 {
            _ = try await simulator.execute("vim-cmd vmsvc/power.on \(vmid)", on: "esxi-01", timeout: nil)
            _ = try await simulator.execute("vim-cmd vmsvc/power.off \(vmid)", on: "esxi-01", timeout: nil)
        }
        #expect(!FileManager.default.fileExists(atPath: state.path + ".log"), "the 256th change wrote a snapshot and dropped the log")
        fleet = try state.read()
        #expect(fleet.stateSequence == 256)
        #expect(fleet.changeLog == (await simulator.fleet).changeLog)
        // A crash between writing a snapshot and dropping the log leaves lines it already holds.
        try state.append(StateFile.Change(sequence: 256, at: 0, host: "esxi-01", command: "vim-cmd vmsvc/power.on \(vmid)"))
        #expect(try state.read().changeLog == fleet.changeLog, "sequence 256 is in the snapshot: not replayed")
    }
}
