/// Every typed action a runbook can name with `action:`.
public enum ActionCatalog {
    public static let all: [ESXiAction] = [
        VMActions.getAllVMs, HostdInventoryFile.action, VMStateAction.definition, VMActions.powerState, VMActions.register, VMActions.unregister,
        PowerOnAction.definition, VMActions.powerOff, VMActions.message,
        StorageActions.rescan, StorageActions.filesystemList, StorageActions.pathList,
        StorageActions.snapshotList, StorageActions.snapshotMount, StorageActions.findVMX,
        HostActions.maintenanceGet, HostActions.maintenanceSet, HostActions.serviceStatus, HostActions.serviceRestart,
        HostActions.vmkping, HostActions.version, HostActions.summary, ApplianceActions.services,
    ]

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func action(named name: String) -> ESXiAction? { byName[name] }

    public static var names: [String] { all.map(\.name) }
}
