import DrctlCore

/// Named parsers a `run` step can use in `capture: {NAME: {parser: ...}}`, for commands written by hand.
public enum OutputParsers {
    public static let all: [String: @Sendable (String) throws -> Value] = [
        "getallvms": { .list(try GetAllVMsParser.parse($0).vms.map(\.value)) },
        "power.getstate": { .string(try PowerStateParser.parse($0).rawValue) },
        "registervm": { .int(try RegisterVMParser.parse($0)) },
        "message": { QuestionParser.parse($0)?.value ?? .null },
        "filesystem.list": { .list(try FilesystemListParser.parse($0).map(\.value)) },
        "path.list": { .list(try PathListParser.parse($0).map(\.value)) },
        "snapshot.list": { .list(try SnapshotListParser.parse($0).map(\.value)) },
        "version": { output in
            let version = try VersionParser.parse(output)
            return ["product": .string(version.product), "version": .string(version.version), "build": .string(version.build),
                    "summary": .string(version.summary)]
        },
        "maintenance": { .bool(try MaintenanceModeParser.parse($0)) },
        "vmkping": { output in
            let ping = try VmkpingParser.parse(output)
            return ["reachable": .bool(ping.reachable), "received": .int(ping.received), "transmitted": .int(ping.transmitted)]
        },
        "fault": { ESXiFault.find(in: $0).map { ["type": .string($0.type), "message": .string($0.message)] } ?? .null },
        "table": { .list(try EsxcliTable.parse($0).map { row in .map(row.mapValues(Value.string)) }) },
        "records": { .list(try EsxcliRecords.parse($0).map { record in .map(record.fields.mapValues(Value.string).merging(["key": .string(record.key)]) { a, _ in a }) }) },
    ]

    public static var names: [String] { all.keys.sorted() }
}
