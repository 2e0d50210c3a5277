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
        let paths = try PathListParser.parse(run("esxcli storage core path list", on: "esxi-01", &fleet).stdout)
        #expect(paths.count == 2)
        #expect(paths.filter(\.isDead).count == 1)
        let devices = try EsxcliRecords.parse(run("esxcli storage core device list", on: "esxi-01", &fleet).stdout)
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
        let interfaces = try EsxcliRecords.parse(run("esxcli network ip interface list", on: "esxi-01", &fleet).stdout)
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
        #expect(ServiceControlParser.parse(run("service-control --status --all", on: "vcsa", &fleet).stdout).stopped.contains("vmware-vpxd"))
        #expect(run("service-control --start --all", on: "vcsa", &fleet).stdout.contains("Successfully started service"))
        let healthy = ServiceControlParser.parse(run("service-control --status --all", on: "vcsa", &fleet).stdout)
        #expect(healthy.running.contains("vmware-vpxd"))
        // Services set to start manually stay listed as stopped on a healthy appliance.
        #expect(healthy.stopped == ["vmcam", "vmware-imagebuilder", "vmware-netdumper", "vmware-rbd-watchdog", "vmware-vcha"])
    }
}

@Suite("more simulated commands read back")
struct MoreRoundTripTests {
    @Test("hostsummary gives capacity figures the placement reads")
    func hostSummary() throws {
        var fleet = try sampleFleet()
        let summary = try HostSummaryParser.parse(run("vim-cmd hostsvc/hostsummary", on: "esxi-02", &fleet).stdout)
        #expect(summary.memoryMB == 65536 && summary.cpuCores == 32 && !summary.inMaintenanceMode)
        #expect(summary.memoryUsedMB == 12288, "the running vCenter appliance uses 12 GB on esxi-02")
        #expect(run("vim-cmd /hostsvc/hostsummary | grep inMaintenanceMode", on: "esxi-02", &fleet).stdout == "      inMaintenanceMode = false, \n")
    }

    @Test("power.off twice: the second is an InvalidPowerState fault; unregister of a running VM too")
    func powerOff() throws {
        var fleet = try sampleFleet()
        let listing = try GetAllVMsParser.parse(run("vim-cmd vmsvc/getallvms", on: "esxi-02", &fleet).stdout)
        let vmid = try #require(listing.vms.first { $0.name == "vcsa-01" }).vmid
        #expect(ESXiFault.find(in: run("vim-cmd vmsvc/unregister \(vmid)", on: "esxi-02", &fleet).stdout)?.type == "InvalidPowerState")
        #expect(throws: Never.self) { try PowerCommandParser.check(run("vim-cmd vmsvc/power.off \(vmid)", on: "esxi-02", &fleet).stdout) }
        let again = run("vim-cmd vmsvc/power.off \(vmid)", on: "esxi-02", &fleet)
        #expect(again.stdout.hasPrefix("Powering off VM:\nPower off failed: (vim.fault.InvalidPowerState) {"))
        #expect(ESXiFault.find(in: again.stdout)?.members["existingState"] == "poweredOff")
        #expect(run("vim-cmd vmsvc/unregister \(vmid)", on: "esxi-02", &fleet).stdout.isEmpty)
    }

    @Test("hostd and vpxa restart, then status, as on ESXi 7")
    func restart() throws {
        var fleet = try sampleFleet()
        let restart = run("/etc/init.d/vpxa restart", on: "esxi-01", &fleet).stdout
        #expect(restart.hasPrefix("watchdog-vpxa: Terminating watchdog process with PID") && restart.hasSuffix("vpxa stopped.\nvpxa started.\n"))
        _ = run("/etc/init.d/hostd stop", on: "esxi-01", &fleet)
        let status = run("/etc/init.d/hostd status", on: "esxi-01", &fleet)
        #expect(try !ServiceStatusParser.parse(status.stdout, service: .hostd) && status.exitStatus != 0)
    }

    @Test("df -h lists the mounted datastores in BusyBox layout")
    func diskFree() throws {
        var fleet = try sampleFleet()
        let lines = run("df -h", on: "esxi-01", &fleet).stdout.split(separator: "\n")
        #expect(lines[0] == "Filesystem   Size   Used Available Use% Mounted on")
        #expect(lines.contains { $0.hasPrefix("VMFS-6") && $0.hasSuffix("/vmfs/volumes/ds-shared-01") && $0.contains("2.0T") })
        #expect(!lines.contains { $0.hasSuffix("/vmfs/volumes/ds-flaky") }, "an APD datastore is not mounted")
    }
}
