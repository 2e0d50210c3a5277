/// One row of `vim-cmd vmsvc/getallvms`.
public struct RegisteredVM: Sendable, Equatable {
    public var vmid: Int
    public var name: String
    /// The datastore path as printed: `[datastore1] web/web.vmx`.
    public var file: String
    public var guestOS: String
    public var version: String
    public var annotation: String

    public init(vmid: Int, name: String, file: String, guestOS: String = "", version: String = "", annotation: String = "") {
        self.vmid = vmid
        self.name = name
        self.file = file
        self.guestOS = guestOS
        self.version = version
        self.annotation = annotation
    }

    /// The datastore named in `file` (empty for `[]`).
    public var datastore: String { DatastorePath(file)?.datastore ?? "" }
}

public struct VMInventoryListing: Sendable, Equatable {
    public var vms: [RegisteredVM]
    /// Lines such as `Skipping invalid VM '12'`.
    public var warnings: [String]

    /// The vmids of registrations ESXi skips as invalid (their files became unreadable).
    public var invalidVmids: [Int] {
        warnings.compactMap { line in
            guard line.lowercased().contains("invalid vm"), let open = line.firstIndex(of: "'"),
                  let close = line[line.index(after: open)...].firstIndex(of: "'") else { return nil }
            return Int(line[line.index(after: open)..<close])
        }
    }
}

public enum GetAllVMsParser {
    /// Reads `getallvms`: names and paths with blanks and brackets, annotations spanning lines,
    /// warning lines, rows in any vmid order and single-blank column gaps.
    /// `stderr`: where ESXi writes `Skipping invalid VM 'N'` (the simulator does too).
    public static func parse(_ output: String, stderr: String = "") throws -> VMInventoryListing {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.trimmingTrailingCarriageReturn) }
        guard let headerIndex = lines.firstIndex(where: isHeader) else {
            if let fault = ESXiFault.find(in: output) { throw fault }
            throw ESXiParseError.unexpectedOutput(expected: "the getallvms header (Vmid Name File Guest OS Version Annotation)", output: output)
        }
        var listing = VMInventoryListing(vms: [], warnings: [])
        // Warnings may come before the header too, and real hosts print them on stderr.
        listing.warnings = lines[..<headerIndex].filter(isWarning).map { $0.trimmingCharacters(in: .whitespaces) }
        listing.warnings += stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter(isWarning)
        for line in lines[(headerIndex + 1)...] {
            if let vm = parseRow(line) {
                listing.vms.append(vm)
            } else if isWarning(line) {
                listing.warnings.append(line.trimmingCharacters(in: .whitespaces))
            } else if !listing.vms.isEmpty, !line.isEmpty {
                // An annotation that continues on the next line.
                let last = listing.vms.count - 1
                listing.vms[last].annotation += (listing.vms[last].annotation.isEmpty ? "" : "\n") + line
            }
        }
        return listing
    }

    static func isWarning(_ line: String) -> Bool {
        line.hasPrefix("Skipping") || line.lowercased().contains("invalid vm")
    }

    static func isHeader(_ line: String) -> Bool {
        let words = line.split(separator: " ")
        return words.first == "Vmid" && words.contains("Name") && words.contains("File")
    }

    // Regex is immutable once built; Swift just does not mark it Sendable.
    nonisolated(unsafe) private static let row = try! Regex(#"^\s*(\d+)\s+(.*?)\s+(\[[^\]]*\] ?[^\[]*?\.vmx)(?:\s+(\S+))?(?:\s+(vmx-\d+))?(?:\s+(.*?))?\s*$"#)

    /// A row holds `[datastore] path.vmx`; anything else (a run of blanks, say) never reaches the
    /// regex, whose backtracking is quadratic on long lines (fuzzed inputs hung). Longer rows than
    /// this are not ESXi's either.
    static let longestRow = 8_192

    static func parseRow(_ line: String) -> RegisteredVM? {
        guard line.utf8.count <= longestRow, line.contains("["), line.contains(".vmx"), let match = try? row.wholeMatch(in: line),
              let vmid = match.output[1].substring.flatMap({ Int($0) }),
              let name = match.output[2].substring,
              let file = match.output[3].substring else { return nil }
        func group(_ index: Int) -> String { match.output[index].substring.map(String.init) ?? "" }
        var guest = group(4)
        var version = group(5)
        var annotation = group(6)
        if version.isEmpty, guest.hasPrefix("vmx-") {
            // A VM with no guest OS set: the version sits in the guest column.
            version = guest
            guest = ""
        }
        if version.isEmpty, !annotation.isEmpty, guest.isEmpty { annotation = annotation.trimmingCharacters(in: .whitespaces) }
        return RegisteredVM(vmid: vmid, name: HostdName.decode(String(name)), file: String(file), guestOS: guest, version: version, annotation: annotation)
    }
}

/// `[datastore] folder/file.vmx` and its `/vmfs/volumes/datastore/folder/file.vmx` form.
public struct DatastorePath: Sendable, Equatable, CustomStringConvertible {
    public var datastore: String
    public var relativePath: String

    public init(datastore: String, relativePath: String) {
        self.datastore = datastore
        self.relativePath = relativePath
    }

    /// Accepts `[ds] path`, `/vmfs/volumes/ds/path` (ds may be the volume's UUID), and `[] /vmfs/volumes/ds/path`
    /// as getallvms prints a VM registered by its absolute path.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            datastore = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            relativePath = trimmed[trimmed.index(after: close)...].trimmingCharacters(in: .whitespaces)
            if datastore.isEmpty, relativePath.hasPrefix("/") {
                guard let absolute = DatastorePath(relativePath) else { return nil }
                self = absolute
            }
        } else if trimmed.hasPrefix("/vmfs/volumes/") {
            let rest = trimmed.dropFirst("/vmfs/volumes/".count)
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            datastore = String(rest[..<slash])
            relativePath = String(rest[rest.index(after: slash)...])
        } else {
            return nil
        }
    }

    public var description: String { "[\(datastore)] \(relativePath)" }
    /// The folder the file sits in: the name the VM was created with.
    public var folder: String { relativePath.split(separator: "/").dropLast().last.map(String.init) ?? "" }

    /// The same path with the datastore named by its label, when it was given by UUID: so that
    /// `[ds] x/x.vmx`, `/vmfs/volumes/ds/x/x.vmx` and `/vmfs/volumes/<uuid>/x/x.vmx` compare equal.
    public func normalized(labels: [String: String]) -> DatastorePath {
        DatastorePath(datastore: labels[datastore] ?? datastore, relativePath: relativePath.split(separator: "/").joined(separator: "/"))
    }
    public var absolutePath: String { "/vmfs/volumes/\(datastore)/\(relativePath)" }
}

import Foundation

/// hostd escapes three characters in VM names: `%` as `%25`, `/` as `%2f`, `\` as `%5c`.
public enum HostdName {
    public static func decode(_ name: String) -> String {
        guard name.contains("%") else { return name }
        return name.replacingOccurrences(of: "%2f", with: "/", options: .caseInsensitive)
            .replacingOccurrences(of: "%5c", with: "\\", options: .caseInsensitive)
            .replacingOccurrences(of: "%25", with: "%")
    }

    public static func encode(_ name: String) -> String {
        name.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2f").replacingOccurrences(of: "\\", with: "%5c")
    }
}
