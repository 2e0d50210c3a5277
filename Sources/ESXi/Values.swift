import DrctlCore

// How parsed ESXi output appears to runbooks, as `steps.ID.NAME` captures.

extension RegisteredVM {
    public var value: Value {
        let path = DatastorePath(file)
        return ["vmid": .int(vmid), "name": .string(name), "file": .string(path?.description ?? file), "datastore": .string(path?.datastore ?? ""),
         "path": .string(path?.absolutePath ?? ""), "guest_os": .string(guestOS),
         "version": .string(version), "annotation": .string(annotation)]
    }

    /// As a host's listing gives it, naming that host. The engine adds the host to every item of
    /// a listing that lacks it, which copies each item; a listing kept by a `ParseMemo` is then
    /// shared as it is, run after run (`whatif --all-hosts` reads each survivor once per failure).
    public func value(listedBy host: String) -> Value { value.listed(by: host) }
}

extension Value {
    /// A listing's item naming the host that listed it.
    func listed(by host: String) -> Value {
        guard case .map(var fields) = self else { return self }
        fields["host"] = .string(host)
        return .map(fields)
    }
}

extension DatastorePath {
    public var value: Value {
        let fileName = relativePath.split(separator: "/").last.map(String.init) ?? relativePath
        let name = fileName.hasSuffix(".vmx") ? String(fileName.dropLast(4)) : fileName
        return ["file": .string(description), "path": .string(absolutePath), "datastore": .string(datastore), "name": .string(name)]
    }
}

extension MountedFilesystem {
    public var value: Value {
        ["mount_point": .string(mountPoint), "volume_name": .string(volumeName), "uuid": .string(uuid),
         "mounted": .bool(mounted), "type": .string(type), "size": .number(Double(size)), "free": .number(Double(free))]
    }
}

extension VMFSSnapshot {
    public var value: Value {
        ["uuid": .string(uuid), "volume_name": .string(volumeName), "can_mount": .bool(canMount),
         "reason": .string(unmountableReason), "can_resignature": .bool(canResignature)]
    }
}

extension StoragePath {
    public var value: Value {
        ["uid": .string(uid), "runtime_name": .string(runtimeName), "device": .string(device),
         "adapter": .string(adapter), "state": .string(state)]
    }
}

extension PendingQuestion {
    public var value: Value {
        ["id": .string(id), "key": .string(key), "text": .string(text),
         "choices": .list(choices.map { ["index": .int($0.index), "label": .string($0.label), "default": .bool($0.isDefault)] })]
    }
}
