import DrctlCore

/// The exact ESXi shell commands drctl sends. Every argument that comes from data is quoted.
public enum ESXiCommand {
    public static let getAllVMs = "vim-cmd vmsvc/getallvms"

    /// Whether a command only reads: the reads a changing action makes around its change (the
    /// power state before and after a power-on, the pending question) are not host changes in the
    /// record, so a crash during one needs no settling and the report's table of changes lists
    /// changes only. Unknown commands count as changes when their step says it changes hosts.
    public static func onlyReads(_ command: String) -> Bool {
        if readCommands.contains(command) { return true }
        let words = command.split(separator: " ")
        if words.count == 3, words[0] == "vim-cmd", ["vmsvc/power.getstate", "vmsvc/message", "vmsvc/get.guest", "vmsvc/get.summary"].contains(words[1]),
           Int(words[2]) != nil { return true }
        if words.count == 2, words[0].hasPrefix("/etc/init.d/"), words[1] == "status" { return true }
        return command.hasPrefix("vmkping ") || command.hasPrefix("grep -H -i ") || command.hasPrefix("find '/vmfs/volumes/")
    }

    private static let readCommands: Set<String> = [getAllVMs, hostSummary, filesystemList, processList, applianceServiceStatus, pathList, deviceList,
                                                    snapshotList, maintenanceModeGet, versionGet, HostdInventoryFile.command]

    public static func powerState(vmid: Int) -> String { "vim-cmd vmsvc/power.getstate \(vmid)" }
    public static func powerOn(vmid: Int) -> String { "vim-cmd vmsvc/power.on \(vmid)" }
    public static func powerOff(vmid: Int) -> String { "vim-cmd vmsvc/power.off \(vmid)" }
    public static func unregister(vmid: Int) -> String { "vim-cmd vmsvc/unregister \(vmid)" }
    public static func message(vmid: Int) -> String { "vim-cmd vmsvc/message \(vmid)" }
    public static func guestInfo(vmid: Int) -> String { "vim-cmd vmsvc/get.guest \(vmid)" }

    public static func answer(vmid: Int, questionID: String, choice: Int) -> String {
        "vim-cmd vmsvc/message \(vmid) \(ShellQuote.quote(questionID)) \(choice)"
    }

    /// `registervm` takes the absolute `/vmfs/volumes/...` path; the name is optional.
    public static func register(vmx: DatastorePath, name: String? = nil) -> String {
        var command = "vim-cmd solo/registervm \(ShellQuote.quote(vmx.absolutePath))"
        if let name { command += " \(ShellQuote.quote(name))" }
        return command
    }

    public static let hostSummary = "vim-cmd hostsvc/hostsummary"
    public static let rescanAllAdapters = "esxcli storage core adapter rescan --all"
    public static let filesystemList = "esxcli storage filesystem list"
    public static let processList = "esxcli vm process list"
    public static let applianceServiceStatus = "service-control --status --all"
    public static let pathList = "esxcli storage core path list"
    public static let deviceList = "esxcli storage core device list"
    public static let snapshotList = "esxcli storage vmfs snapshot list"

    /// Mounts an unresolved VMFS copy by label, keeping its signature (never resignatures).
    public static func snapshotMount(volumeLabel: String) -> String {
        "esxcli storage vmfs snapshot mount -l \(ShellQuote.quote(volumeLabel))"
    }

    public static func snapshotMount(uuid: String) -> String {
        "esxcli storage vmfs snapshot mount -u \(ShellQuote.quote(uuid))"
    }

    public static let maintenanceModeGet = "esxcli system maintenanceMode get"
    public static func maintenanceModeSet(enabled: Bool) -> String {
        "esxcli system maintenanceMode set --enable \(enabled)"
    }

    public static let versionGet = "esxcli system version get"

    public static func serviceStatus(_ service: ManagementService) -> String { "/etc/init.d/\(service.rawValue) status" }
    public static func serviceRestart(_ service: ManagementService) -> String { "/etc/init.d/\(service.rawValue) restart" }

    /// Three pings through a chosen vmk interface.
    public static func vmkping(target: String, interface: String? = nil, count: Int = 3) -> String {
        var command = "vmkping -c \(count)"
        if let interface { command += " -I \(ShellQuote.quote(interface))" }
        return command + " \(ShellQuote.quote(target))"
    }

    /// Lists `.vmx` files one and two folders deep in a datastore. The trailing slash makes
    /// BusyBox find follow the datastore-name symlink.
    /// `file:displayName = "..."` for each file (grep -H is BusyBox's too).
    public static func displayNames(vmxFiles: [String]) -> String {
        "grep -H -i -E '^(displayName|memSize) *=' " + vmxFiles.map { $0.hasPrefix("<") ? $0 : ShellQuote.quote($0) }.joined(separator: " ")
    }

    public static func findVMX(datastore: String) -> String {
        "find \(ShellQuote.quote("/vmfs/volumes/\(datastore)/")) -maxdepth 3 -name '*.vmx'"
    }
}
