import DrctlCore

/// `vm.inventory`: what a host runs, for checking a recovery's end state in three reads.
///
/// getallvms lists the registrations (invalid ones are skipped, as ESXi skips them);
/// `esxcli vm process list` lists the running VMs by config file; the filesystem list turns
/// the UUIDs in those paths into datastore labels. One VM per host costs nothing extra.
enum VMStateAction {
    static let definition = ESXiAction(
        name: "vm.inventory", summary: "List the VMs registered on the host with their power state (end-state checks).",
        mutates: false, outputs: ["vms", "invalid"],
        plan: { _ in [ESXiCommand.getAllVMs, ESXiCommand.processList, ESXiCommand.filesystemList] },
        perform: { _, shell in
            let registered = try await shell.checked(ESXiCommand.getAllVMs)
            let processes = try await shell.checked(ESXiCommand.processList).stdout
            let filesystems = try await shell.checked(ESXiCommand.filesystemList).stdout
            let host = shell.hostName
            guard registered.stderr.isEmpty else { return try state(registered, processes, filesystems, host: host) }
            // The same three answers from the same host give the same state (an unchanged survivor, read again).
            let key = [host, registered.stdout, processes, filesystems].joined(separator: "\u{0}")
            return try memo.value(of: key) { _ in try state(registered, processes, filesystems, host: host) }
        })

    private static let memo = ParseMemo<[String: Value]>()

    private static func state(_ registered: ShellOutput, _ processList: String, _ filesystemList: String, host: String) throws -> [String: Value] {
        let listing = try GetAllVMsParser.parse(registered.stdout, stderr: registered.stderr)
        let processes = try EsxcliRecords.parse(processList)
        let filesystems = try FilesystemListParser.parse(filesystemList)
        var labels: [String: String] = [:]
        for filesystem in filesystems { labels[filesystem.uuid] = filesystem.volumeName }
        let mounted = Set(filesystems.filter(\.mounted).map(\.volumeName))
        let running = Set(processes.compactMap { $0["Config File"].flatMap(DatastorePath.init)?.normalized(labels: labels).description })
        let vms: [Value] = listing.vms.map { vm in
            let path = DatastorePath(vm.file)?.normalized(labels: labels)
            let on = path.map { running.contains($0.description) } ?? false
            var fields = vm.value(listedBy: host).mapValue ?? [:]
            fields["file"] = .string(path?.description ?? vm.file)
            fields["powered_on"] = .bool(on)
            fields["power_state"] = .string(on ? "powered on" : "powered off")
            fields["datastore_mounted"] = .bool(path.map { mounted.contains($0.datastore) } ?? false)
            return .map(fields)
        }
        return ["vms": .list(vms), "invalid": .list(listing.invalidVmids.map { ["vmid": .int($0)] })]
    }
}
