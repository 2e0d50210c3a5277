import DrctlCore
/// A row of `esxcli storage filesystem list`.
public struct MountedFilesystem: Sendable, Equatable {
    public var mountPoint: String
    public var volumeName: String
    public var uuid: String
    public var mounted: Bool
    public var type: String
    public var size: Int64
    public var free: Int64
}

public enum FilesystemListParser {
    public static func parse(_ output: String) throws -> [MountedFilesystem] {
        try EsxcliTable.parse(output).map { row in
            guard let uuid = row["UUID"], let mounted = row["Mounted"] else {
                throw ESXiParseError.unexpectedOutput(expected: "UUID and Mounted columns", output: output)
            }
            return MountedFilesystem(mountPoint: row["Mount Point"] ?? "", volumeName: row["Volume Name"] ?? "",
                                     uuid: uuid, mounted: mounted == "true", type: row["Type"] ?? "",
                                     size: Int64(row["Size"] ?? "") ?? 0, free: Int64(row["Free"] ?? "") ?? 0)
        }
    }
}

/// An unresolved VMFS copy from `esxcli storage vmfs snapshot list`.
public struct VMFSSnapshot: Sendable, Equatable {
    public var uuid: String
    public var volumeName: String
    public var canMount: Bool
    public var unmountableReason: String
    public var canResignature: Bool
}

public enum SnapshotListParser {
    public static func parse(_ output: String) throws -> [VMFSSnapshot] {
        try EsxcliRecords.parse(output).map { record in
            VMFSSnapshot(uuid: record["VMFS UUID"] ?? record.key, volumeName: record["Volume Name"] ?? "",
                         canMount: record["Can mount"] == "true", unmountableReason: record["Reason for un-mountability"] ?? "",
                         canResignature: record["Can resignature"] == "true")
        }
    }
}

/// A storage path from `esxcli storage core path list`.
public struct StoragePath: Sendable, Equatable {
    public var uid: String
    public var runtimeName: String
    public var device: String
    public var adapter: String
    public var state: String

    public var isDead: Bool { state == "dead" }
}

public enum PathListParser {
    public static func parse(_ output: String) throws -> [StoragePath] {
        try EsxcliRecords.parse(output).map { record in
            StoragePath(uid: record["UID"] ?? record.key, runtimeName: record["Runtime Name"] ?? "",
                        device: record["Device"] ?? "", adapter: record["Adapter"] ?? "", state: record["State"] ?? "")
        }
    }
}

public enum VMXFileListParser {
    /// Reads the output of `find /vmfs/volumes/DS/ -name '*.vmx'` into datastore paths.
    /// Templates are `.vmtx` files and never match.
    public static func parse(_ output: String, datastore: String) -> [DatastorePath] {
        memo.value(of: datastore + "\u{0}" + output) { _ in parseText(output, datastore: datastore) }
    }

    private static let memo = ParseMemo<[DatastorePath]>()

    private static func parseText(_ output: String, datastore: String) -> [DatastorePath] {
        output.split(separator: "\n").compactMap { line in
            let path = line.trimmingBlanks()
            guard path.hasSuffix(".vmx") else { return nil }
            guard var parsed = DatastorePath(path) else { return nil }
            parsed.datastore = datastore
            // `find /vmfs/volumes/DS/` prints `/vmfs/volumes/DS//folder/x.vmx` on BusyBox.
            while parsed.relativePath.hasPrefix("/") { parsed.relativePath.removeFirst() }
            return parsed
        }
    }
}

import Foundation

/// Reads `grep -H -i -E '^(displayName|memSize) *=' FILE...`: `/vmfs/volumes/ds/x/x.vmx:displayName = "web (eu)"`.
///
/// A .vmx file escapes some characters as `|XX` (hex): `|22` is a quote, `|7C` a bar.
public enum DisplayNameParser {
    /// Each .vmx file's settings as `grep -H` prints them (`FILE.vmx:displayName = "x"`): file ->
    /// setting (lowercased: the .vmx format ignores case) -> value.
    public static func settings(_ output: String) -> [String: [String: String]] {
        memo.value(of: output, parseText)
    }

    /// Each file's displayName: the name vCenter showed.
    public static func parse(_ output: String) -> [String: String] {
        settings(output).compactMapValues { $0["displayname"] }
    }

    private static let memo = ParseMemo<[String: [String: String]]>()

    private static func parseText(_ output: String) -> [String: [String: String]] {
        var files: [String: [String: String]] = [:]
        for line in output.split(separator: "\n") {
            guard let marker = line.range(of: ".vmx:") else { continue }
            let file = String(line[..<marker.lowerBound]) + ".vmx"
            let setting = line[marker.upperBound...]
            guard let equals = setting.firstIndex(of: "=") else { continue }
            let key = setting[..<equals].trimmingBlanks().lowercased()
            var value = setting[setting.index(after: equals)...].trimmingBlanks()
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
            files[file, default: [:]][key] = unescapeVMX(value)
        }
        return files
    }

    static func unescapeVMX(_ text: String) -> String {
        guard text.contains("|") else { return text }
        var result = ""
        var characters = Substring(text)
        while let bar = characters.firstIndex(of: "|") {
            result += characters[..<bar]
            let hex = characters[characters.index(after: bar)...].prefix(2)
            if hex.count == 2, let code = UInt8(hex, radix: 16) {
                result.unicodeScalars.append(Unicode.Scalar(code))
                characters = characters[characters.index(bar, offsetBy: 3)...]
            } else {
                result += "|"
                characters = characters[characters.index(after: bar)...]
            }
        }
        return result + characters
    }
}
