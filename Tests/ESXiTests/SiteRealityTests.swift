import DrctlCore
@testable import ESXi
import Foundation
import Testing

/// What real sites print that kinder fleets do not.
@Suite("site realities in ESXi output")
struct SiteRealityTests {
    let header = "Vmid   Name             File                              Guest OS         Version   Annotation\n"

    @Test("getallvms: `Skipping invalid VM` is read from stderr, where ESXi prints it")
    func invalidOnStderr() throws {
        let listing = try GetAllVMsParser.parse(header + "2      web-01   [ds1] web-01/web-01.vmx   otherGuest   vmx-19\n",
                                                stderr: "Skipping invalid VM '7'\nSkipping invalid VM '9'\n")
        #expect(listing.invalidVmids == [7, 9])
        #expect(listing.vms.map(\.vmid) == [2])
    }

    @Test("getallvms: hostd's escaped names are decoded; `[] /vmfs/...` rows give their absolute path")
    func escapesAndAbsolutePaths() throws {
        let listing = try GetAllVMsParser.parse(header
            + "3      web%2f01 %25 back%5cslash   [ds1] web-01/web-01.vmx   otherGuest   vmx-19\n"
            + "4      orphan   [] /vmfs/volumes/5f8b4c97-234dcc30/orphan/orphan.vmx   otherGuest   vmx-19\n")
        #expect(listing.vms[0].name == "web/01 % back\\slash")
        #expect(listing.vms[1].value["path"] == "/vmfs/volumes/5f8b4c97-234dcc30/orphan/orphan.vmx")
        #expect(listing.vms[1].value["file"] == "[5f8b4c97-234dcc30] orphan/orphan.vmx")
        #expect(HostdName.decode(HostdName.encode("a/b\\c%d")) == "a/b\\c%d")
    }

    @Test("a host's listing names that host, even when another host answered the same words",
          arguments: [("vm.getallvms", "vms"), ("vm.inventory", "vms"), ("storage.filesystem.list", "filesystems"), ("datastore.find_vmx", "vmx")])
    func listingsNameTheirHost(action: String, list: String) async throws {
        let listing = ShellOutput(stdout: header + "2      web-01   [ds1] web-01/web-01.vmx   otherGuest   vmx-19\n")
        let filesystems = "Mount Point              Volume Name  UUID                                 Mounted  Type    Size  Free\n"
            + "-----------------------  -----------  -----------------------------------  -------  ------  ----  ----\n"
            + "/vmfs/volumes/5f8b4c97   ds1          5f8b4c97-234dcc30-d982-54ea7418ec3f  true     VMFS-6  100   50\n"
        for host in ["esx-a", "esx-b", "esx-a"] {
            let shell = ScriptedShell(host: host) { command in
                switch command {
                case ESXiCommand.getAllVMs: return listing
                case ESXiCommand.filesystemList: return ShellOutput(stdout: filesystems)
                case ESXiCommand.findVMX(datastore: "ds1"): return ShellOutput(stdout: "/vmfs/volumes/ds1/web-01/web-01.vmx\n")
                case _ where command.contains("displayName"): return ShellOutput(stdout: "/vmfs/volumes/ds1/web-01/web-01.vmx:displayName = \"web-01\"\n")
                default: return ShellOutput(stdout: "")
                }
            }
            let outputs = try await #require(ActionCatalog.action(named: action)).perform(ActionArguments(["datastore": "ds1"]), shell)
            #expect(outputs[list]?.listValue?.map { $0["host"] } == [.string(host)])
        }
    }

    @Test("paths by label, by /vmfs/volumes and by UUID are one file")
    func pathForms() {
        let labels = ["5f8b4c97-234dcc30-d982-54ea7418ec3f": "ds1"]
        let forms = ["[ds1] db/db.vmx", "/vmfs/volumes/ds1/db/db.vmx", "/vmfs/volumes/5f8b4c97-234dcc30-d982-54ea7418ec3f/db//db.vmx", "[] /vmfs/volumes/ds1/db/db.vmx"]
        #expect(Set(forms.compactMap { DatastorePath($0)?.normalized(labels: labels).description }) == ["[ds1] db/db.vmx"])
        #expect(DatastorePath("[ds1] crm-old/crm-old.vmx")?.folder == "crm-old")
    }

    @Test("displayName is read from each .vmx, |22-style escapes decoded")
    func displayNames() {
        let names = DisplayNameParser.parse("/vmfs/volumes/ds1/old/old.vmx:displayName = \"crm-app\"\n"
            + "/vmfs/volumes/ds1/q/q.vmx:displayName = \"say |22hi|22 |7C x\"\n")
        #expect(names["/vmfs/volumes/ds1/old/old.vmx"] == "crm-app")
        #expect(names["/vmfs/volumes/ds1/q/q.vmx"] == "say \"hi\" | x")
    }

    @Test("registervm answering AlreadyExists gives the vmid that holds the file")
    func alreadyExists() async throws {
        let shell = ScriptedShell { _ in
            ShellOutput(stdout: "(vim.fault.AlreadyExists) {\n   faultCause = (vmodl.MethodFault) null, \n   name = \"12\"\n   msg = \"The specified key, name, or identifier '12' already exists.\"\n}\n", exitStatus: 1)
        }
        let outputs = try await VMActions.register.perform(ActionArguments(["vmx": "[ds1] db/db.vmx"]), shell)
        #expect(outputs["vmid"] == 12)
        #expect(outputs["already_registered"] == true)
    }

    @Test("a vpxa restart is judged by the service's status, whatever the restart printed (5.x: 'vpxa is running')")
    func olderWording() async throws {
        let shell = ScriptedShell { command in
            command.hasSuffix("restart") ? ShellOutput(stdout: "watchdog-vpxa: Terminating watchdog process\nvpxa stopped.\nvpxa is running\n")
                                         : ShellOutput(stdout: "vpxa is running\n")
        }
        let outputs = try await HostActions.serviceRestart.perform(ActionArguments(["service": "vpxa"]), shell)
        #expect(outputs["running"] == true)
        #expect(shell.commands == ["/etc/init.d/vpxa restart", "/etc/init.d/vpxa status"])
        let stopped = ScriptedShell { command in ShellOutput(stdout: command.hasSuffix("restart") ? "vpxa started.\n" : "vpxa is not running\n", exitStatus: command.hasSuffix("restart") ? 0 : 3) }
        await #expect(throws: ESXiCommandFailed.self) { try await HostActions.serviceRestart.perform(ActionArguments(["service": "vpxa"]), stopped) }
    }

    @Test("vm.inventory: registrations with their power state, running VMs found by their UUID path")
    func inventory() async throws {
        let shell = ScriptedShell { command in
            switch command {
            case ESXiCommand.getAllVMs:
                return ShellOutput(stdout: "Vmid   Name   File   Guest OS   Version   Annotation\n1      db     [ds1] db/db.vmx   otherGuest   vmx-19\n2      web    [ds1] web/web.vmx   otherGuest   vmx-19\n",
                                   stderr: "Skipping invalid VM '5'\n")
            case ESXiCommand.processList:
                return ShellOutput(stdout: "db\n   World ID: 2101\n   Display Name: db\n   Config File: /vmfs/volumes/aaaa-bbbb/db/db.vmx\n")
            default:
                return ShellOutput(stdout: [
                    "Mount Point              Volume Name  UUID       Mounted  Type    Size  Free",
                    "-----------------------  -----------  ---------  -------  ------  ----  ----",
                    "/vmfs/volumes/aaaa-bbbb  ds1          aaaa-bbbb     true  VMFS-6    10     5",
                    ""].joined(separator: "\n"))
            }
        }
        let outputs = try await VMStateAction.definition.perform(ActionArguments([:]), shell)
        let vms = try #require(outputs["vms"]?.listValue)
        #expect(vms.map { $0["powered_on"] } == [true, false])
        #expect(vms.allSatisfy { $0["datastore_mounted"] == true })
        #expect(outputs["invalid"] == [["vmid": 5]])
    }

    @Test("service-control: the manual services stay under Stopped: on a healthy appliance")
    func serviceControl() {
        let status = ServiceControlParser.parse("Stopped:\n vmcam vmware-imagebuilder\nRunning:\n vmware-vpxd vsphere-ui\n")
        #expect(status.stopped == ["vmcam", "vmware-imagebuilder"])
        #expect(status.running == ["vmware-vpxd", "vsphere-ui"])
    }
}

/// Parser inputs that crashed or hung drctl (`Tests/Corpus/findings/parser-*`) now give a result
/// or a parse error.
@Suite("parser fuzz findings")
struct ParserFuzzFindingTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus/findings")

    func finding(_ name: String) -> String? {
        FileManager.default.contents(atPath: Self.directory.appendingPathComponent(name).path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("hostsummary with impossible figures is a parse error, not an overflow")
    func hostSummary() throws {
        for name in ["parser-crash-hostsummary-usage-intmin.txt", "parser-crash-num-sim-hostsummary-71-e3e826303b.bin"] {
            let text = try #require(finding(name), "\(name) is in the corpus")
            _ = try? HostSummaryParser.parse(text)
        }
        #expect(throws: ESXiParseError.self) { try HostSummaryParser.parse("memorySize = 0\noverallMemoryUsage = -9223372036854775808\n") }
    }

    @Test("getallvms with long runs of blanks, and a 100 KB choice line, finish at once")
    func longLines() throws {
        for name in ["parser-hang-getallvms-blank-run.txt", "parser-slow-getallvms-blank-run-800.txt"] {
            let text = try #require(finding(name), "\(name) is in the corpus")
            _ = try? GetAllVMsParser.parse(text)
        }
        _ = QuestionParser.parse(try #require(finding("parser-hang-message-choice-line-100k.txt")))
        let blanks = "Vmid   Name   File   Guest OS   Version   Annotation\n1" + String(repeating: " ", count: 50_000) + "\n"
        #expect(try GetAllVMsParser.parse(blanks).vms.isEmpty)
    }
}
