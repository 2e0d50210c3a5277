import Engine
import ESXi
import Foundation
import RunbookFormat
@testable import Simulator
import Testing

@Suite("state changes are real")
struct StateTransitionTests {
    @Test("registervm: appears in getallvms with a new vmid; twice gives AlreadyExists; a missing file NotFound")
    func register() throws {
        var fleet = try sampleFleet()
        let command = ESXiCommand.register(vmx: DatastorePath(datastore: "ds-shared-01", relativePath: "db-01/db-01.vmx"))
        let vmid = try RegisterVMParser.parse(run(command, on: "esxi-02", &fleet).stdout)
        #expect(try GetAllVMsParser.parse(run("vim-cmd vmsvc/getallvms", on: "esxi-02", &fleet).stdout).vms.contains { $0.vmid == vmid && $0.name == "db-01" })
        let again = run(command, on: "esxi-02", &fleet)
        #expect(ESXiFault.find(in: again.stdout)?.type == "AlreadyExists")
        let missing = run(ESXiCommand.register(vmx: DatastorePath(datastore: "ds-shared-01", relativePath: "nope/nope.vmx")), on: "esxi-02", &fleet)
        #expect(ESXiFault.find(in: missing.stdout)?.type == "NotFound")
    }

    @Test("power.on of a moved VM asks msg.uuid.altered (6.x wording) and stays pending until answered")
    func movedVMQuestion() throws {
        var fleet = try sampleFleet()
        let vmid = try RegisterVMParser.parse(run(ESXiCommand.register(vmx: DatastorePath("[ds-shared-01] db-01/db-01.vmx")!), on: "esxi-02", &fleet).stdout)
        #expect(Interpreter.run(ESXiCommand.powerOn(vmid: vmid), on: "esxi-02", fleet: &fleet) == .waiting(PendingWait(host: "esxi-02", vm: "db-01")))
        let question = try #require(QuestionParser.parse(run(ESXiCommand.message(vmid: vmid), on: "esxi-02", &fleet).stdout))
        #expect(question.isUUIDAltered && question.text.contains("might have been moved"))
        #expect(try PowerStateParser.parse(run(ESXiCommand.powerState(vmid: vmid), on: "esxi-02", &fleet).stdout) == .poweredOff)
        let moved = try #require(question.choice(answering: .moved))
        _ = run(ESXiCommand.answer(vmid: vmid, questionID: question.id, choice: moved.index), on: "esxi-02", &fleet)
        #expect(try PowerStateParser.parse(run(ESXiCommand.powerState(vmid: vmid), on: "esxi-02", &fleet).stdout) == .poweredOn)
        #expect(Interpreter.resume(PendingWait(host: "esxi-02", vm: "db-01"), fleet: fleet) == ShellOutput(stdout: "Powering on VM:\n"))
    }

    @Test("a second power.on while the first waits on its question is refused and changes nothing")
    func powerOnWhileQuestionPending() throws {
        var fleet = try sampleFleet()
        let vmid = try RegisterVMParser.parse(run(ESXiCommand.register(vmx: DatastorePath("[ds-shared-01] db-01/db-01.vmx")!), on: "esxi-02", &fleet).stdout)
        _ = Interpreter.run(ESXiCommand.powerOn(vmid: vmid), on: "esxi-02", fleet: &fleet)
        let changes = fleet.changeLog
        let again = run(ESXiCommand.powerOn(vmid: vmid), on: "esxi-02", &fleet)
        #expect(ESXiFault.find(in: again.stdout)?.type == "InvalidState")
        #expect(fleet.changeLog == changes)
    }

    @Test("the 5.x/6.5 hosts word the question as their versions do")
    func versionedQuestion() throws {
        var fleet = try sampleFleet()
        let vmid = try RegisterVMParser.parse(run(ESXiCommand.register(vmx: DatastorePath("[ds-shared-01] db-01/db-01.vmx")!), on: "esxi-03", &fleet).stdout)
        _ = Interpreter.run(ESXiCommand.powerOn(vmid: vmid), on: "esxi-03", fleet: &fleet)
        let text = run(ESXiCommand.message(vmid: vmid), on: "esxi-03", &fleet).stdout
        #expect(text.contains("1. I _Moved It (I _Moved It)"))
    }

    @Test("a VM on an APD datastore cannot power on")
    func apdPowerOn() throws {
        var fleet = try sampleFleet()
        let output = run("vim-cmd vmsvc/power.on 1", on: "esxi-02", &fleet)
        #expect(ESXiFault.find(in: output.stdout)?.type == "FileNotFound")
        #expect(output.stdout.hasPrefix("Powering on VM:\nPower on failed: (vim.fault.FileNotFound) {"))
    }

    @Test("rescans bring a returning LUN back as a snapshot, listed until mounted")
    func rescanAndSnapshot() throws {
        var fleet = try sampleFleet()
        #expect(try SnapshotListParser.parse(run("esxcli storage vmfs snapshot list", on: "esxi-01", &fleet).stdout).isEmpty)
        _ = run("esxcli storage core adapter rescan --all", on: "esxi-01", &fleet)
        #expect(try SnapshotListParser.parse(run("esxcli storage vmfs snapshot list", on: "esxi-01", &fleet).stdout).isEmpty, "returns after 2 rescans")
        #expect(run("esxcli storage core adapter rescan --all", on: "esxi-01", &fleet).stdout.isEmpty)
        let snapshots = try SnapshotListParser.parse(run("esxcli storage vmfs snapshot list", on: "esxi-01", &fleet).stdout)
        #expect(snapshots.map(\.volumeName) == ["ds-flaky"] && snapshots[0].canMount)
        #expect(try !FilesystemListParser.parse(run("esxcli storage filesystem list", on: "esxi-01", &fleet).stdout).contains { $0.volumeName == "ds-flaky" })
        #expect(run(ESXiCommand.snapshotMount(volumeLabel: "ds-flaky"), on: "esxi-01", &fleet).exitStatus == 0)
        #expect(try SnapshotListParser.parse(run("esxcli storage vmfs snapshot list", on: "esxi-01", &fleet).stdout).isEmpty)
        #expect(try FilesystemListParser.parse(run("esxcli storage filesystem list", on: "esxi-01", &fleet).stdout).contains { $0.volumeName == "ds-flaky" && $0.mounted })
        // Each host mounts the copy for itself: esxi-02 still sees it unresolved.
        #expect(try SnapshotListParser.parse(run("esxcli storage vmfs snapshot list", on: "esxi-02", &fleet).stdout).map(\.volumeName) == ["ds-flaky"])
        #expect(ESXiFault.find(in: run("vim-cmd vmsvc/power.on 1", on: "esxi-02", &fleet).stdout)?.type == "FileNotFound")
        #expect(run(ESXiCommand.snapshotMount(volumeLabel: "ds-flaky"), on: "esxi-02", &fleet).exitStatus == 0)
        #expect(fleet.datastores.first { $0.name == "ds-flaky" }?.condition == .ok)
        #expect(try PowerCommandParser.check(run("vim-cmd vmsvc/power.on 1", on: "esxi-02", &fleet).stdout) == ())
    }

    @Test("a down host refuses connections; a hung host accepts TCP and never answers")
    func downAndHung() async throws {
        let fleet = try sampleFleet("  - { name: spare, datastore: ds-shared-01 }\n")
        var hung = fleet
        hung.hosts[hung.hostIndex("esxi-03")!].state = .hung
        let simulator = FleetSimulator(fleet: hung, connectTimeout: .milliseconds(100))
        await #expect(throws: TransportError(.refused, host: "esxi-04", detail: "the host is down", hint: "check the host's power and management network")) {
            _ = try await simulator.execute("uname -a", on: "esxi-04", timeout: nil)
        }
        do {
            _ = try await simulator.execute("uname -a", on: "esxi-03", timeout: nil)
            Issue.record("a hung host answered")
        } catch let error as TransportError {
            #expect(error.kind == .timedOut && error.detail.contains("no SSH banner"))
        }
        let tcp = await simulator.probe(ProbeRequest(method: .tcp, host: nil, address: "10.0.0.13", port: 22, timeout: .seconds(1)))
        #expect(tcp.state == .up)
        let ssh = await simulator.probe(ProbeRequest(method: .ssh, host: nil, address: "10.0.0.13", port: 22, timeout: .milliseconds(50)))
        #expect(ssh.state == .down)
        await #expect(throws: TransportError.self) { _ = try await simulator.execute("uname -a", on: "prod-esxi-99", timeout: nil) }
    }

    @Test("vCenter: 443 answers only when the appliance runs and its services are up")
    func vcenterProbe() async throws {
        let simulator = FleetSimulator(fleet: try sampleFleet())
        let request = ProbeRequest(method: .tcp, host: nil, address: "10.0.0.5", port: 443, timeout: .seconds(1))
        #expect(await simulator.probe(request).state == .down)
        _ = try await simulator.execute("service-control --start --all", on: "vcsa", timeout: nil)
        #expect(await simulator.probe(request).state == .up)
    }
}
