import Engine
import ESXi
import Foundation
import RunbookFormat
import Testing
@testable import Simulator

/// The simulator is at least as messy as a real site.
@Suite("messy sites in the simulator")
struct MessySiteTests {
    @Test("hostd escapes names in getallvms; the .vmx holds the displayName; a renamed VM keeps its old folder")
    func names() throws {
        var fleet = try sampleFleet("  - { name: \"web/01 100%\", path: old/old.vmx, datastore: ds-shared-01, host: esxi-01, power: off }\n")
        let listing = run("vim-cmd vmsvc/getallvms", on: "esxi-01", &fleet)
        #expect(listing.stdout.contains("web%2f01 100%25"))
        #expect(try GetAllVMsParser.parse(listing.stdout).vms.contains { $0.name == "web/01 100%" && $0.file == "[ds-shared-01] old/old.vmx" })
        let grep = run("grep -H -i '^displayName' /vmfs/volumes/ds-shared-01/old/old.vmx", on: "esxi-01", &fleet)
        #expect(DisplayNameParser.parse(grep.stdout)["/vmfs/volumes/ds-shared-01/old/old.vmx"] == "web/01 100%")
        #expect(run("grep -H displayName /vmfs/volumes/ds-shared-01/none/none.vmx", on: "esxi-01", &fleet).exitStatus == 2)
    }

    @Test("esxcli vm process list names the running VMs by the UUID path of their .vmx")
    func processList() throws {
        var fleet = try sampleFleet()
        let uuid = fleet.datastores.first { $0.name == "ds-shared-01" }!.uuid
        let records = try EsxcliRecords.parse(run("esxcli vm process list", on: "esxi-02", &fleet).stdout)
        #expect(records.map(\.key) == ["vcsa-01"])
        #expect(records.first?["Config File"] == "/vmfs/volumes/\(uuid)/vcsa-01/vcsa-01.vmx")
    }

    @Test("a registration whose client died lands later; registering it again answers AlreadyExists with its vmid")
    func lateRegistration() throws {
        var fleet = try sampleFleet().withFaults("faults:\n  - { registration_lands_late: { vm: db-01, after_commands: 2 } }\n")
        let first = Interpreter.run("vim-cmd solo/registervm /vmfs/volumes/ds-shared-01/db-01/db-01.vmx", on: "esxi-02", fleet: &fleet)
        guard case .dropped = first else { Issue.record("the client should lose its connection"); return }
        #expect(fleet.vms.first { $0.name == "db-01" }?.registration?.host == "esxi-04", "not landed yet")
        _ = run("uname -a", on: "esxi-02", &fleet)
        _ = run("uname -a", on: "esxi-02", &fleet)
        #expect(fleet.vms.first { $0.name == "db-01" }?.registration?.host == "esxi-02", "landed")
        let again = run("vim-cmd solo/registervm /vmfs/volumes/ds-shared-01/db-01/db-01.vmx", on: "esxi-02", &fleet)
        #expect(ESXiFault.find(in: again.stdout)?.type == "AlreadyExists")
        #expect(fleet.changeLog.filter { $0.contains("registervm db-01") }.count == 1)
    }

    @Test("a host that refuses registrations from a datastore answers NotFound")
    func refused() throws {
        var fleet = try sampleFleet().withFaults("faults:\n  - { registration_refused: { host: esxi-02, datastore: ds-shared-01 } }\n")
        let answer = run("vim-cmd solo/registervm /vmfs/volumes/ds-shared-01/db-01/db-01.vmx", on: "esxi-02", &fleet)
        #expect(ESXiFault.find(in: answer.stdout)?.type == "NotFound")
        #expect(run("vim-cmd solo/registervm /vmfs/volumes/ds-shared-01/db-01/db-01.vmx", on: "esxi-01", &fleet).exitStatus == 0)
    }

    @Test("a booting appliance accepts SSH, fails its commands with 255, answers HTTPS only when vpxd runs")
    func bootingAppliance() async throws {
        var fleet = try sampleFleet()
        fleet.vcenter?.bootCommands = 2
        fleet.vcenter?.servicesStartOnBoot = false
        fleet.vms[fleet.vmIndex(named: "vcsa-01")!].power = .off
        _ = run("vim-cmd vmsvc/power.on \(fleet.vms.first { $0.name == "vcsa-01" }!.registration!.vmid)", on: "esxi-02", &fleet)
        let https = ProbeRequest(method: .https, host: nil, address: "10.0.0.5", port: 443, timeout: .seconds(1))
        let ssh = ProbeRequest(method: .ssh, host: nil, address: "10.0.0.5", port: 22, timeout: .seconds(1))
        #expect(SimulatedProbe.answer(ssh, fleet: fleet, connectTimeout: .seconds(1)).result.state == .up)
        #expect(SimulatedProbe.answer(https, fleet: fleet, connectTimeout: .seconds(1)).result.detail.contains("booting"))
        #expect(run("service-control --status --all", on: "vcsa", &fleet).exitStatus == 255)
        #expect(run("service-control --status --all", on: "vcsa", &fleet).exitStatus == 255)
        let status = ServiceControlParser.parse(run("service-control --status --all", on: "vcsa", &fleet).stdout)
        #expect(status.stopped.contains("vmware-vpxd"), "vMon did not start them by itself")
        #expect(SimulatedProbe.answer(https, fleet: fleet, connectTimeout: .seconds(1)).result.detail.contains("HTTP 503"))
        _ = run("service-control --start --all", on: "vcsa", &fleet)
        #expect(SimulatedProbe.answer(https, fleet: fleet, connectTimeout: .seconds(1)).result.state == .up)
    }
}
