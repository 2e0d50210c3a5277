import DrctlCore

/// Storage actions: rescans, filesystems, paths, VMFS snapshots and finding .vmx files.
enum StorageActions {
    static let rescan = ESXiAction(
        name: "storage.rescan",
        summary: "Rescan every storage adapter; with a datastore, then report whether it is mounted, an unresolved snapshot, or missing.",
        parameters: [ActionParameter("datastore", .text, required: false, "a datastore to look for after the rescan")],
        mutates: true, outputs: ["state", "mounted", "snapshot"],
        plan: { arguments in
            [ESXiCommand.rescanAllAdapters] + (arguments.optionalText("datastore") != nil ? [ESXiCommand.filesystemList, ESXiCommand.snapshotList] : [])
        },
        perform: { arguments, shell in
            _ = try await shell.checked(ESXiCommand.rescanAllAdapters)
            guard let datastore = arguments.optionalText("datastore") else { return ["state": "", "mounted": false, "snapshot": false] }
            return try await datastoreState(datastore, shell)
        },
        verify: { arguments, shell in
            // The datastore is already back (mounted, or as a copy to mount): another rescan finds nothing new.
            guard let datastore = arguments.optionalText("datastore") else { return nil }
            let outputs = try await datastoreState(datastore, shell)
            return outputs["mounted"] == .bool(true) || outputs["snapshot"] == .bool(true) ? outputs : nil
        })

    /// `mounted`, `snapshot` (an unresolved VMFS copy waits to be mounted), `unmounted` or `missing`.
    static func datastoreState(_ datastore: String, _ shell: any ESXiShell) async throws -> ESXiAction.Outputs {
        let filesystems = try FilesystemListParser.parse(try await shell.checked(ESXiCommand.filesystemList).stdout)
        let state: String
        if let row = filesystems.first(where: { $0.volumeName == datastore }), row.mounted {
            state = "mounted"
        } else if try SnapshotListParser.parse(await shell.checked(ESXiCommand.snapshotList).stdout).contains(where: { $0.volumeName == datastore }) {
            state = "snapshot"
        } else {
            state = filesystems.contains(where: { $0.volumeName == datastore }) ? "unmounted" : "missing"
        }
        return ["state": .string(state), "mounted": .bool(state == "mounted"), "snapshot": .bool(state == "snapshot")]
    }

    static let filesystemList = ESXiAction(
        name: "storage.filesystem.list", summary: "List mounted filesystems (datastores).", mutates: false,
        outputs: ["filesystems", "volumes"],
        plan: { _ in [ESXiCommand.filesystemList] },
        perform: { _, shell in
            let filesystems = try FilesystemListParser.parse(try await shell.checked(ESXiCommand.filesystemList).stdout)
            // Datastores only: the bootbanks and scratch (vfat) hold no VMs.
            let host = shell.hostName
            return ["filesystems": .list(filesystems.map { $0.value.listed(by: host) }),
                    "volumes": .list(filesystems.filter { $0.mounted && !$0.type.lowercased().hasPrefix("vfat") }.map { .string($0.volumeName) })]
        })

    static let pathList = ESXiAction(
        name: "storage.path.list", summary: "List storage paths and their state; counts dead paths.", mutates: false,
        outputs: ["paths", "dead_paths"],
        plan: { _ in [ESXiCommand.pathList] },
        perform: { _, shell in
            let paths = try PathListParser.parse(await shell.checked(ESXiCommand.pathList).stdout)
            return ["paths": .list(paths.map(\.value)), "dead_paths": .int(paths.filter(\.isDead).count)]
        })

    static let snapshotList = ESXiAction(
        name: "storage.snapshot.list", summary: "List unresolved VMFS copies (snapshot LUNs).", mutates: false,
        outputs: ["snapshots"],
        plan: { _ in [ESXiCommand.snapshotList] },
        perform: { _, shell in
            let snapshots = try SnapshotListParser.parse(await shell.checked(ESXiCommand.snapshotList).stdout)
            return ["snapshots": .list(snapshots.map(\.value))]
        })

    static let snapshotMount = ESXiAction(
        name: "storage.snapshot.mount",
        summary: "Mount an unresolved VMFS copy by its volume label, keeping its signature (never resignatures).",
        parameters: [ActionParameter("volume", .text, "the volume label shown by storage.snapshot.list")],
        mutates: true, outputs: [],
        plan: { arguments in [ESXiCommand.snapshotMount(volumeLabel: try arguments.text("volume"))] },
        perform: { arguments, shell in
            _ = try await shell.checked(ESXiCommand.snapshotMount(volumeLabel: try arguments.text("volume")))
            return [:]
        },
        verify: { arguments, shell in
            let volume = try arguments.text("volume")
            let filesystems = try FilesystemListParser.parse(try await shell.checked(ESXiCommand.filesystemList).stdout)
            return filesystems.contains(where: { $0.volumeName == volume && $0.mounted }) ? [:] : nil
        })

    static let findVMX = ESXiAction(
        name: "datastore.find_vmx", summary: "Find .vmx files on a datastore (templates, .vmtx, are left out).",
        parameters: [ActionParameter("datastore", .text, "the datastore name")],
        mutates: false, outputs: ["vmx"],
        plan: { arguments in
            let datastore = try arguments.text("datastore")
            return [ESXiCommand.findVMX(datastore: datastore), ESXiCommand.displayNames(vmxFiles: ["<each .vmx found>"])]
        },
        perform: { arguments, shell in
            let datastore = try arguments.text("datastore")
            let output = try await shell.checked(ESXiCommand.findVMX(datastore: datastore))
            let files = VMXFileListParser.parse(output.stdout, datastore: datastore)
            guard !files.isEmpty else { return ["vmx": .list([])] }
            // The name vCenter shows lives in the .vmx (displayName); the folder keeps the name
            // the VM was created with, which a rename in vCenter does not change.
            let displayNames = try await shell.run(ESXiCommand.displayNames(vmxFiles: files.map(\.absolutePath))).stdout
            // The same files and names give the same list (a datastore read again, unchanged). Each
            // file names the host that found it here, as a listing does, so that the engine keeps
            // the memo's list as it is instead of copying every file to add the host.
            let host = shell.hostName
            return vmxLists.value(of: [host, datastore, output.stdout, displayNames].joined(separator: "\u{0}")) { _ in
                let settings = DisplayNameParser.settings(displayNames)
                return ["vmx": .list(files.map { file in
                    var fields = file.value.mapValue ?? [:]
                    fields["folder"] = .string(file.folder)
                    fields["host"] = .string(host)
                    if let name = settings[file.absolutePath]?["displayname"] {
                        fields["display_name"] = .string(name)
                        fields["name"] = .string(name)
                    }
                    // A VM the inventory does not know still says how much memory it needs.
                    if let memory = settings[file.absolutePath]?["memsize"].flatMap({ Int($0) }) { fields["memory_mb"] = .int(memory) }
                    return .map(fields)
                })]
            }
        })

    private static let vmxLists = ParseMemo<[String: Value]>()
}
