@testable import ESXi
import Testing

// Samples follow ../shared/reference/esxi-real-outputs.md (layouts, wording, fault shapes).

@Suite("getallvms")
struct GetAllVMsTests {
    @Test("an empty host prints only the header")
    func emptyHost() throws {
        let listing = try GetAllVMsParser.parse("Vmid   Name   File   Guest OS   Version   Annotation\n")
        #expect(listing.vms.isEmpty)
    }

    @Test("5.5 layout with wide columns")
    func classicRows() throws {
        let output = """
        Vmid    Name                 File                      Guest OS          Version   Annotation
        1      VM1      [datastore1] VM1/VM1.vmx           rhel6_64Guest           vmx-08
        2      VM2      [datastore1] VM2/VM2.vmx           windows7Server64Guest   vmx-08
        """
        let vms = try GetAllVMsParser.parse(output).vms
        #expect(vms.map(\.vmid) == [1, 2])
        #expect(vms[1].name == "VM2")
        #expect(vms[1].file == "[datastore1] VM2/VM2.vmx")
        #expect(vms[1].guestOS == "windows7Server64Guest")
        #expect(vms[1].version == "vmx-08")
        #expect(vms[0].datastore == "datastore1")
    }

    @Test("names with blanks and brackets, empty datastore, multi-line annotations, warnings, unordered ids")
    func awkwardRows() throws {
        let output = """
        Vmid   Name   File   Guest OS   Version   Annotation
        12     web (old) [v2]   [shared ds] web (old)/web (old).vmx   otherLinux64Guest   vmx-13   first line
        continues here
        Skipping invalid VM '7'
        3 db-01 [] /vmfs/volumes/ds1/db-01/db-01.vmx centos7_64Guest vmx-14
        """
        let listing = try GetAllVMsParser.parse(output)
        #expect(listing.vms.map(\.vmid) == [12, 3])
        #expect(listing.vms[0].name == "web (old) [v2]")
        #expect(listing.vms[0].file == "[shared ds] web (old)/web (old).vmx")
        #expect(listing.vms[0].annotation == "first line\ncontinues here")
        #expect(listing.vms[1].name == "db-01")
        #expect(listing.vms[1].file == "[] /vmfs/volumes/ds1/db-01/db-01.vmx")
        #expect(listing.warnings == ["Skipping invalid VM '7'"])
    }

    /// Names as real sites have them; each one's folder is its name, as the vSphere client makes it.
    static let literalNames = ["web [old]", "[prod] db", "a]b [c", "db*01 ?x", "back\\slash", "100% cpu", "v1.2.3", "two  blanks",
                               "tab\there", "数据库 服务器", "Kundenportal Zürich", "x.vmx y"]

    @Test("a name with brackets, globs, dots, blanks or another script: the file is the one in its path, the name is the name",
          arguments: literalNames)
    func literalName(_ name: String) throws {
        let width = max(24, name.count + 2)
        let padded = name + String(repeating: " ", count: width - name.count)
        let file = "[ds-gold 2] \(name)/\(name).vmx"
        let output = """
        Vmid   Name                    File                                   Guest OS          Version   Annotation
        7      \(padded)\(file)   otherLinux64Guest   vmx-19    copied from [old] x.vmx
        8      next                    [ds-gold 2] next/next.vmx              otherLinux64Guest   vmx-19
        """
        let vms = try GetAllVMsParser.parse(output).vms
        #expect(vms.map(\.vmid) == [7, 8])
        #expect(vms.first?.name == name)
        // The same row with no bracket in its annotation (the common case, read another way).
        let plain = try GetAllVMsParser.parse("Vmid   Name   File   Guest OS   Version   Annotation\n7      \(padded)\(file)   otherLinux64Guest   vmx-19\n").vms.first
        #expect(plain?.name == name && plain?.file == file, "\(String(describing: plain))")
        #expect(vms.first?.file == file)
        #expect(vms.first?.datastore == "ds-gold 2")
        #expect(vms.first?.annotation == "copied from [old] x.vmx")
        #expect(vms.last?.file == "[ds-gold 2] next/next.vmx")
    }

    @Test("output that is not a listing is an error that shows the output")
    func garbage() {
        #expect(throws: ESXiParseError.self) { try GetAllVMsParser.parse("-sh: vim-cmd: not found") }
    }
}

@Suite("faults and power")
struct FaultAndPowerTests {
    @Test("6.x fault block: no comma before msg, unescaped inner quotes")
    func modernFault() throws {
        let output = """
        (vim.fault.NotFound) {
           faultCause = (vmodl.MethodFault) null,
           faultMessage = <unset>
           msg = "Unable to find a VM corresponding to "2""
        }
        """
        let fault = try #require(ESXiFault.find(in: output))
        #expect(fault.type == "NotFound")
        #expect(fault.message == "Unable to find a VM corresponding to \"2\"")
        #expect(throws: ESXiFault.self) { try PowerStateParser.parse(output) }
    }

    @Test("5.x fault block with dynamicType and trailing commas")
    func classicFault() throws {
        let output = """
        (vim.fault.NotFound) {
          dynamicType = <unset>,
          faultCause = (vmodl.MethodFault) null,
          msg = "The object or item referred to could not be found.",
        }
        """
        let fault = try #require(ESXiFault.find(in: output))
        #expect(fault.message == "The object or item referred to could not be found.")
        #expect(fault.members["dynamicType"] == "<unset>")
    }

    @Test("power.on failure with nested messages keeps top-level members only")
    func powerOnFault() throws {
        let output = """
        Powering on VM:
        Power on failed: (vim.fault.GenericVmConfigFault) {
           faultCause = (vmodl.MethodFault) null, 
           faultMessage = (vmodl.LocalizableMessage) [
              (vmodl.LocalizableMessage) {
                 key = "msg.hvuser.NoSVM", 
                 arg = <unset>, 
                 message = "This host does not support AMD-V."
              }
           ], 
           reason = "This host does not support AMD-V."
           msg = "This host does not support AMD-V."
        }
        """
        let fault = try #require(ESXiFault.find(in: output))
        #expect(fault.type == "GenericVmConfigFault")
        #expect(fault.context == "Power on failed:")
        #expect(fault.members["reason"] == "This host does not support AMD-V.")
        #expect(fault.members["key"] == nil)
        #expect(throws: ESXiFault.self) { try PowerCommandParser.check(output) }
    }

    @Test("InvalidPowerState carries requested and existing states")
    func invalidPowerState() throws {
        let output = """
        Reset VM:
        Reset failed: (vim.fault.InvalidPowerState) {
           faultCause = (vmodl.MethodFault) null, 
           faultMessage = <unset>, 
           requestedState = "poweredOn", 
           existingState = "poweredOff"
           msg = "The attempted operation cannot be performed in the current state (Powered off)."
        }
        """
        let fault = try #require(ESXiFault.find(in: output))
        #expect(fault.members["existingState"] == "poweredOff")
        #expect(fault.members["requestedState"] == "poweredOn")
    }

    @Test func powerStates() throws {
        #expect(try PowerStateParser.parse("Retrieved runtime info\nPowered on\n") == .poweredOn)
        #expect(try PowerStateParser.parse("Retrieved runtime info\nPowered off") == .poweredOff)
        #expect(try PowerStateParser.parse("Retrieved runtime info\nSuspended\n") == .suspended)
    }

    @Test("6.0/6.5 bare 'Power off failed' is a failure")
    func barePowerOffFailure() {
        #expect(throws: ESXiFault.self) { try PowerCommandParser.check("Powering off VM:\nPower off failed\n") }
        #expect(throws: Never.self) { try PowerCommandParser.check("Powering on VM:\n") }
    }

    @Test func registerPrintsTheVmid() throws {
        #expect(try RegisterVMParser.parse("222\n") == 222)
        #expect(throws: ESXiFault.self) {
            try RegisterVMParser.parse("(vim.fault.AlreadyExists) {\n   faultCause = (vmodl.MethodFault) null,\n   msg = \"The specified key, name, or identifier '/vmfs/volumes/ds1/a/a.vmx' already exists.\"\n}")
        }
    }
}

@Suite("questions")
struct QuestionTests {
    @Test("5.x msg.uuid.altered: the 'moved' choice is found by label, not index")
    func classicQuestion() throws {
        let output = """
        Virtual machine message 0:
        msg.uuid.altered:This virtual machine may have been moved or copied.

        In order to configure certain management and networking features VMware ESX needs to know which.

        Did you move this virtual machine, or did you copy it?
        If you don't know, answer "I copied it".
        0. Cancel (Cancel)
        1. I _moved it (I _moved it)
        2. I _copied it (I _copied it) [default]
        """
        let question = try #require(QuestionParser.parse(output))
        #expect(question.id == "0")
        #expect(question.isUUIDAltered)
        #expect(question.choice(answering: .moved)?.index == 1)
        #expect(question.choice(answering: .copied)?.index == 2)
        #expect(question.choices[2].isDefault)
    }

    @Test("6.x title-case labels with moved hotkeys and a numeric question id")
    func modernQuestion() throws {
        let output = """
        Virtual machine message 79900:
        msg.uuid.altered:This virtual machine might have been moved or copied.
        0. Cancel (Cancel)
        1. I _Moved It (I _Moved It)
        2. I Co_pied It (I Co_pied It) [default]
        """
        let question = try #require(QuestionParser.parse(output))
        #expect(question.id == "79900")
        #expect(question.choice(answering: .moved)?.index == 1)
        #expect(question.choice(answering: .copied)?.index == 2)
    }

    @Test func noQuestion() {
        #expect(QuestionParser.parse("") == nil)
    }
}

@Suite("esxcli layouts")
struct EsxcliTests {
    @Test("filesystem list is cut by the dash rule: blanks in names, right-aligned numbers")
    func filesystemList() throws {
        let output = """
        Mount Point                                        Volume Name                                 UUID                                 Mounted  Type           Size         Free
        -------------------------------------------------  ------------------------------------------  -----------------------------------  -------  ------  -----------  -----------
        /vmfs/volumes/693975f2-9139b258-8620-005056b3b989  OSDATA-693975f2-9139b258-8620-005056b3b989  693975f2-9139b258-8620-005056b3b989     true  VMFSOS  34091302912  32238469120
        /vmfs/volumes/5f8b4c97-234dcc30-d982-54ea7418ec3f  shared ds (gold)                            5f8b4c97-234dcc30-d982-54ea7418ec3f    false  VMFS-6   4293591040   3975413760
        """
        let filesystems = try FilesystemListParser.parse(output)
        #expect(filesystems.count == 2)
        #expect(filesystems[1].volumeName == "shared ds (gold)")
        #expect(filesystems[1].mounted == false)
        #expect(filesystems[0].size == 34_091_302_912)
        #expect(filesystems[1].type == "VMFS-6")
    }

    @Test("records: text without the record structure is refused, never read as no records; nothing at all is no records",
          arguments: ["Error: Unknown command or namespace storage vmfs snapshot lst",
                      "UUID,Volume Name,Can mount\n5fd23c30-16acc074,ds1,true\n",
                      "<?xml version=\"1.0\"?>\n<output xmlns=\"http://www.vmware.com/Products/ESX/5.0/esxcli\">\n<list type=\"structure\"></list>\n</output>\n",
                      "5fd23c30-16acc074-006d-d09466c6d6af\nVolume Name: ds1\nCan mount: true\n"])
    func recordsRefuseOtherText(_ output: String) throws {
        #expect(throws: ESXiParseError.self) { try EsxcliRecords.parse(output) }
        #expect(throws: ESXiParseError.self) { try SnapshotListParser.parse(output) }
        #expect(try EsxcliRecords.parse("").isEmpty)
        #expect(try SnapshotListParser.parse("  \n\n").isEmpty)
    }

    @Test("snapshot list records, with the trailing blank values kept empty")
    func snapshotList() throws {
        let output = """
        5fd23c30-16acc074-006d-d09466c6d6af
           Volume Name: esxi6-flash-ds
           VMFS UUID: 5fd23c30-16acc074-006d-d09466c6d6af
           Can mount: true
           Reason for un-mountability: 
           Can resignature: true
           Reason for non-resignaturability: 
           Unresolved Extent Count: 1
           
        """
        let snapshots = try SnapshotListParser.parse(output)
        #expect(snapshots == [VMFSSnapshot(uuid: "5fd23c30-16acc074-006d-d09466c6d6af", volumeName: "esxi6-flash-ds", canMount: true,
                                           unmountableReason: "", canResignature: true)])
    }

    @Test("version get with and without Maintenance, indented or not")
    func versions() throws {
        let nine = try VersionParser.parse("   Product: VMware ESXi\n   Version: 9.0.0\n   Build: Releasebuild-24755229\n   Update: 0\n   Maintenance: 0\n   Patch: 0\n")
        #expect(nine.summary == "9.0.0 (build 24755229)")
        let eight = try VersionParser.parse("Product: VMware ESXi\nVersion: 8.0.2\nBuild: Releasebuild-22380479\nUpdate: 2\nPatch: 0\n")
        #expect(eight.version == "8.0.2")
    }

    @Test func maintenanceAndServices() throws {
        #expect(try MaintenanceModeParser.parse("Enabled\n"))
        #expect(try !MaintenanceModeParser.parse("Disabled\n"))
        #expect(try ServiceStatusParser.parse("hostd is running.\n", service: .hostd))
        #expect(try !ServiceStatusParser.parse("hostd is not running.\n", service: .hostd))
        #expect(try !ServiceStatusParser.parse("vpxa is not running\n", service: .vpxa))
    }

    @Test func vmkping() throws {
        let ok = try VmkpingParser.parse("""
        PING 172.16.98.22 (172.16.98.22): 56 data bytes
        64 bytes from 172.16.98.22: icmp_seq=0 ttl=64 time=0.243 ms

        --- 172.16.98.22 ping statistics ---
        3 packets transmitted, 3 packets received, 0% packet loss
        round-trip min/avg/max = 0.243/0.255/0.262 ms
        """)
        #expect(ok.reachable && ok.received == 3)
        #expect(ok.averageMilliseconds == 0.255)
        let tooLarge = try VmkpingParser.parse("""
        PING 192.168.6.1 (192.168.6.1): 1500 data bytes
        sendto() failed (Message too long)
        sendto() failed (Message too long)

        --- 192.168.6.1 ping statistics ---
        3 packets transmitted, 0 packets received, 100% packet loss
        """)
        #expect(!tooLarge.reachable)
        #expect(tooLarge.errors == ["sendto() failed (Message too long)"])
    }

    @Test("find output becomes datastore paths; templates (.vmtx) are not listed")
    func findVMX() {
        let paths = VMXFileListParser.parse("/vmfs/volumes/ds1//web/web.vmx\n/vmfs/volumes/ds1//tpl/tpl.vmtx\n/vmfs/volumes/ds1//db 01/db 01.vmx\n", datastore: "ds1")
        #expect(paths.map(\.description) == ["[ds1] web/web.vmx", "[ds1] db 01/db 01.vmx"])
    }

    @Test func datastorePaths() throws {
        let path = try #require(DatastorePath("[shared ds] web/web.vmx"))
        #expect(path.absolutePath == "/vmfs/volumes/shared ds/web/web.vmx")
        #expect(DatastorePath("/vmfs/volumes/ds1/a/a.vmx") == DatastorePath(datastore: "ds1", relativePath: "a/a.vmx"))
        #expect(DatastorePath("web.vmx") == nil)
    }
}
