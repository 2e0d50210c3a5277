import ESXi
import Foundation
@testable import Simulator
import Testing

/// The simulator's output must be readable by the same parsers that read real ESXi, and follow
/// the reference layouts (header, column order, fault block shape).
@Suite("simulated output reads back through the ESXi parsers")
struct RoundTripTests {
    @Test("getallvms: header, columns, hostile names, templates left out")
    func getAllVMs() throws {
        var fleet = try sampleFleet()
        let output = run("vim-cmd vmsvc/getallvms", on: "esxi-01", &fleet)
        #expect(output.stdout.hasPrefix("Vmid   Name"))
        #expect(output.stdout.split(separator: "\n")[0].split(separator: " ").map(String.init) == ["Vmid", "Name", "File", "Guest", "OS", "Version", "Annotation"])
        let listing = try GetAllVMsParser.parse(output.stdout)
        #expect(listing.vms.map(\.name) == ["web; reboot"])
        #expect(listing.vms[0].file == "[ds-shared-01] web; reboot/web; reboot.vmx")
        #expect(listing.vms[0].guestOS == "centos7_64Guest")
        let empty = run("vim-cmd vmsvc/getallvms", on: "esxi-03", &fleet)
        #expect(empty.stdout == "Vmid   Name   File   Guest OS   Version   Annotation\n")
    }

    @Test("power.getstate and NotFound in the 6.x fault layout")
    func powerState() throws {
        var fleet = try sampleFleet()
        #expect(try PowerStateParser.parse(run("vim-cmd vmsvc/power.getstate 1", on: "esxi-01", &fleet).stdout) == .poweredOff)
        let missing = run("vim-cmd vmsvc/power.getstate 99", on: "esxi-01", &fleet)
        #expect(missing.exitStatus == 1)
        #expect(missing.stdout == """
        (vim.fault.NotFound) {
           faultCause = (vmodl.MethodFault) null, 
           faultMessage = <unset>
           msg = "Unable to find a VM corresponding to "99""
        }

        """)
        #expect(ESXiFault.find(in: missing.stdout)?.type == "NotFound")
    }

    @Test("filesystem list: dash rule, right-aligned Mounted/Size/Free, parsed by the rule")
    func filesystemList() throws {
        var fleet = try sampleFleet()
        let output = run("esxcli storage filesystem list", on: "esxi-01", &fleet).stdout
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("Mount Point"))
        #expect(lines[0].contains("  Mounted  Type") && lines[0].hasSuffix("Free"))
        #expect(lines[1].allSatisfy { $0 == "-" || $0 == " " })
        let filesystems = try FilesystemListParser.parse(output)
        let shared = try #require(filesystems.first { $0.volumeName == "ds-shared-01" })
        #expect(shared.mounted && shared.size == 2048 * 1_073_741_824 && shared.type == "VMFS-6")
        #expect(filesystems.first { $0.volumeName == "ds-flaky" }?.mounted == false)
    }

    @Test("path list records: dead paths on an APD datastore")
    func pathList() throws {
        var fleet = try sampleFleet()
        let paths = PathListParser.parse(run("esxcli storage core path list", on: "esxi-01", &fleet).stdout)
        #expect(paths.count == 2)
        #expect(paths.filter(\.isDead).count == 1)
        let devices = EsxcliRecords.parse(run("esxcli storage core device list", on: "esxi-01", &fleet).stdout)
        #expect(devices.count == 2 && devices.allSatisfy { $0["Display Name"] != nil })
    }

    @Test("version: ESXi 8 without Maintenance, 6.5 with its build")
    func version() throws {
        var fleet = try sampleFleet()
        let eight = run("esxcli system version get", on: "esxi-01", &fleet).stdout
        #expect(!eight.contains("Maintenance:") && eight.hasPrefix("   Product: VMware ESXi\n"))
        #expect(try VersionParser.parse(eight).summary == "8.0.3 (build 24585383)")
        #expect(try VersionParser.parse(run("esxcli system version get", on: "esxi-03", &fleet).stdout).version == "6.5.0")
    }

    @Test("maintenance mode, services, interfaces, NICs")
    func hostState() throws {
        var fleet = try sampleFleet()
        #expect(try !MaintenanceModeParser.parse(run("esxcli system maintenanceMode get", on: "esxi-01", &fleet).stdout))
        #expect(run("esxcli system maintenanceMode set --enable true", on: "esxi-01", &fleet).stdout.isEmpty)
        #expect(try MaintenanceModeParser.parse(run("esxcli system maintenanceMode get", on: "esxi-01", &fleet).stdout))
        #expect(try ServiceStatusParser.parse(run("/etc/init.d/hostd status", on: "esxi-01", &fleet).stdout, service: .hostd))
        let interfaces = EsxcliRecords.parse(run("esxcli network ip interface list", on: "esxi-01", &fleet).stdout)
        #expect(interfaces.map(\.key) == ["vmk0", "vmk1"] && interfaces[1]["MTU"] == "9000")
        let nics = try EsxcliTable.parse(run("esxcli network nic list", on: "esxi-01", &fleet).stdout)
        #expect(nics.count == 2 && nics[0]["Speed"] == "10000" && nics[0]["Description"]?.contains("X710") == true)
    }

    @Test("vmkping: reachable survivors, an unreachable dead host, MTU faults")
    func vmkping() throws {
        var fleet = try sampleFleet()
        let ok = try VmkpingParser.parse(run("vmkping -I vmk0 10.0.0.12", on: "esxi-01", &fleet).stdout)
        #expect(ok.reachable && ok.transmitted == 3)
        let dead = run("vmkping -c 3 -I vmk0 10.0.0.14", on: "esxi-01", &fleet)
        let deadPing = try VmkpingParser.parse(dead.stdout)
        #expect(dead.exitStatus == 1 && !deadPing.reachable)
        let tooBig = try VmkpingParser.parse(run("vmkping -d -s 1500 10.0.0.12", on: "esxi-01", &fleet).stdout)
        #expect(tooBig.errors == ["sendto() failed (Message too long)"])
    }

    @Test("find lists .vmx files BusyBox-style; templates (.vmtx) are not .vmx")
    func findVMX() throws {
        var fleet = try sampleFleet()
        let output = run(ESXiCommand.findVMX(datastore: "ds-shared-01"), on: "esxi-02", &fleet).stdout
        #expect(output.contains("/vmfs/volumes/ds-shared-01//db-01/db-01.vmx"))
        let paths = VMXFileListParser.parse(output, datastore: "ds-shared-01").map(\.description)
        #expect(paths.contains("[ds-shared-01] app (old)/app (old).vmx"))
        #expect(!paths.contains { $0.contains("golden") })
        #expect(run("ls /vmfs/volumes/ds-shared-01/golden", on: "esxi-02", &fleet).stdout == "golden.nvram\ngolden.vmdk\ngolden.vmsd\ngolden.vmtx\ngolden-flat.vmdk\nvmware.log\n"
                || run("ls /vmfs/volumes/ds-shared-01/golden", on: "esxi-02", &fleet).stdout.contains("golden.vmtx"))
    }

    @Test("unknown commands answer like BusyBox ash")
    func unknownCommand() throws {
        var fleet = try sampleFleet()
        let output = run("frobnicate --now", on: "esxi-01", &fleet)
        #expect(output.stderr == "-sh: frobnicate: not found\n" && output.exitStatus == 127)
        #expect(run("vim-cmd vmsvc/getallvms | grep -c reboot", on: "esxi-01", &fleet).stdout == "1\n")
    }

    @Test("service-control on the appliance")
    func serviceControl() throws {
        var fleet = try sampleFleet()
        #expect(run("service-control --status --all", on: "vcsa", &fleet).stdout.hasPrefix("Stopped:\n"))
        #expect(run("service-control --start --all", on: "vcsa", &fleet).stdout.contains("Successfully started service"))
        #expect(run("service-control --status --all", on: "vcsa", &fleet).stdout.hasPrefix("Running:\n"))
    }
}
