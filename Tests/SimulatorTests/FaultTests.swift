import Engine
import ESXi
import Foundation
@testable import Simulator
import Testing

@Suite("faults")
struct FaultTests {
    @Test("after_commands: the host goes down once N commands were answered")
    func afterCommands() async throws {
        let simulator = FleetSimulator(fleet: try sampleFleet().withFaults("faults:\n  - { host_down: esxi-02, after_commands: 2 }\n"))
        _ = try await simulator.execute("uname -a", on: "esxi-02", timeout: nil)
        _ = try await simulator.execute("uname -a", on: "esxi-02", timeout: nil)
        await #expect(throws: TransportError.self) { _ = try await simulator.execute("uname -a", on: "esxi-02", timeout: nil) }
        #expect(await simulator.faultsFired == ["host esxi-02 is down"])
    }

    @Test("after_step: fires when the step finishes")
    func afterStep() async throws {
        let simulator = FleetSimulator(fleet: try sampleFleet().withFaults("faults:\n  - { hostd_crashed: esxi-01, after_step: discover }\n"))
        #expect(try await simulator.execute("vim-cmd vmsvc/getallvms", on: "esxi-01", timeout: nil).exitStatus == 0)
        await simulator.stepFinished("other")
        #expect(try await simulator.execute("vim-cmd vmsvc/getallvms", on: "esxi-01", timeout: nil).exitStatus == 0)
        await simulator.stepFinished("discover")
        let after = try await simulator.execute("vim-cmd vmsvc/getallvms", on: "esxi-01", timeout: nil)
        #expect(after.exitStatus == 1 && after.stderr == "Connect to localhost failed: Connection failure.\n")
        #expect(try await simulator.execute("/etc/init.d/hostd restart", on: "esxi-01", timeout: nil).stdout == "hostd started.\n")
        #expect(try await simulator.execute("vim-cmd vmsvc/getallvms", on: "esxi-01", timeout: nil).exitStatus == 0)
    }

    @Test("latency: fixed plus seeded jitter")
    func latency() async throws {
        let simulator = FleetSimulator(fleet: try sampleFleet().withFaults("faults:\n  - { latency: { fixed: 60ms, jitter: 20ms } }\n"))
        let clock = ContinuousClock.now
        _ = try await simulator.execute("uname -a", on: "esxi-01", timeout: nil)
        let elapsed = ContinuousClock.now - clock
        #expect(elapsed >= .milliseconds(60), "the fixed latency is applied")
    }

    @Test("PDL mid-run: VMs on it die, their registrations turn invalid, and they cannot start")
    func datastoreLoss() async throws {
        var fleet = try sampleFleet().withFaults("faults:\n  - { datastore_pdl: ds-shared-01, after_commands: 1 }\n")
        _ = run("uname -a", on: "esxi-01", &fleet)
        fleet.fireDueFaults()
        #expect(fleet.datastores.first { $0.name == "ds-shared-01" }?.condition == .pdl)
        let output = run("vim-cmd vmsvc/getallvms", on: "esxi-01", &fleet)
        #expect(output.stderr == "Skipping invalid VM '1'\n", "as ESXi, on stderr")
        let listing = try GetAllVMsParser.parse(output.stdout, stderr: output.stderr)
        #expect(listing.vms.isEmpty && listing.invalidVmids == [1])
        #expect(ESXiFault.find(in: run("vim-cmd vmsvc/power.on 1", on: "esxi-01", &fleet).stdout)?.type == "InvalidState")
        #expect(run("vim-cmd vmsvc/unregister 1", on: "esxi-01", &fleet).exitStatus == 0)
    }

    @Test("APD mid-run: VMs keep running with stalled I/O and nothing new can start there")
    func allPathsDown() throws {
        var fleet = try sampleFleet().withFaults("faults:\n  - { datastore_apd: ds-shared-01 }\n")
        #expect(fleet.vms.first { $0.name == "vcsa-01" }?.power == .on)
        #expect(ESXiFault.find(in: run("vim-cmd vmsvc/power.on 1", on: "esxi-01", &fleet).stdout)?.type == "FileNotFound")
    }

    @Test("vCenter down and power-on failures as faults")
    func vcenterAndPowerOn() throws {
        var fleet = try sampleFleet().withFaults("faults:\n  - { vcenter_down: true }\n  - { power_on_fails: web; reboot }\n")
        #expect(fleet.vcenter?.servicesRunning == false)
        let output = run("vim-cmd vmsvc/power.on 1", on: "esxi-01", &fleet)
        #expect(ESXiFault.find(in: output.stdout)?.type == "GenericVmConfigFault")
    }

    @Test("a dropped connection takes effect, then fails the call")
    func dropConnection() async throws {
        let simulator = FleetSimulator(fleet: try sampleFleet().withFaults("faults:\n  - { drop_connection: { host: esxi-01, matching: power.on, times: 1 } }\n"))
        do {
            _ = try await simulator.execute("vim-cmd vmsvc/power.on 1", on: "esxi-01", timeout: nil)
            Issue.record("the connection did not drop")
        } catch let error as TransportError {
            #expect(error.kind == .sessionDropped)
        }
        #expect(try await simulator.execute("vim-cmd vmsvc/power.getstate 1", on: "esxi-01", timeout: nil).stdout.contains("Powered on"))
    }

    @Test("seeded random failures: the same seed gives an identical transcript")
    func sameSeedSameTranscript() throws {
        func transcript(seed: UInt64) throws -> [String] {
            var fleet = try ScenarioLoader.load(text: sampleScenario.replacingOccurrences(of: "vcenter: {", with: vcsaVM + "vcenter: {")
                                                 + "\nfaults:\n  - { random_failures: { rate: 0.5, matching: vim-cmd } }\n", file: "s.yaml", seed: seed).fleet
            return (0..<30).map { index in
                let output = run(index % 2 == 0 ? "vim-cmd vmsvc/getallvms" : "vmkping -I vmk0 10.0.0.12", on: "esxi-01", &fleet)
                return "\(output.exitStatus)|\(output.stdout)|\(output.stderr)"
            }
        }
        let first = try transcript(seed: 7)
        #expect(first == (try transcript(seed: 7)))
        #expect(first != (try transcript(seed: 8)))
        #expect(first.contains { $0.hasPrefix("1|") } && first.contains { $0.hasPrefix("0|Vmid") })
    }
}

extension Fleet {
    /// The sample fleet with extra `faults:` YAML, fired as the scenario loader would.
    func withFaults(_ yaml: String) throws -> Fleet {
        try ScenarioLoader.load(text: sampleScenario.replacingOccurrences(of: "vcenter: {", with: vcsaVM + "vcenter: {") + "\n" + yaml, file: "s.yaml").fleet
    }
}
