import DrctlCore
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
        guard stderr.isEmpty else { return try parseText(output, stderr: stderr) }
        return try memo.value(of: output) { try parseText($0, stderr: "") }
    }

    private static let memo = ParseMemo<VMInventoryListing>()

    private static func parseText(_ output: String, stderr: String) throws -> VMInventoryListing {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.trimmingTrailingCarriageReturn) }
        guard let headerIndex = lines.firstIndex(where: isHeader) else {
            if let fault = ESXiFault.find(in: output) { throw fault }
            throw ESXiParseError.unexpectedOutput(expected: "the getallvms header (Vmid Name File Guest OS Version Annotation)", output: output)
        }
        var listing = VMInventoryListing(vms: [], warnings: [])
        // Warnings may come before the header too, and real hosts print them on stderr.
        listing.warnings = lines[..<headerIndex].filter(isWarning).map { $0.trimmingBlanks() }
        listing.warnings += stderr.split(separator: "\n").map { $0.trimmingBlanks() }.filter(isWarning)
        for line in lines[(headerIndex + 1)...] {
            if let vm = parseRow(line) {
                listing.vms.append(vm)
            } else if isWarning(line) {
                listing.warnings.append(line.trimmingBlanks())
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

    /// A row is `vmid  name  [datastore] path.vmx  guest  vmx-NN  annotation`, the name free text.
    /// Read in one pass over the UTF-8 bytes (a regular expression backtracked for seconds on fuzzed
    /// lines, and Characters cost microseconds a row on a large site): the file is found by
    /// `vmxFile`. Columns are padded with ASCII blanks.
    static func parseRow(_ line: String) -> RegisteredVM? {
        let bytes = Array(line.utf8)
        let text = { (range: Range<Int>) in String(decoding: bytes[range], as: UTF8.self) }
        var index = 0
        while index < bytes.count, isBlank(bytes[index]) { index += 1 }
        let digitsStart = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        guard index > digitsStart, let vmid = Int(text(digitsStart..<index)) else { return nil }
        let nameStart = index
        guard let (open, end) = vmxFile(in: bytes, from: nameStart) else { return nil }
        // Blanks after the vmid and before the file; an empty name needs two.
        let name = text(nameStart..<open).trimmingBlanks()
        guard isBlank(bytes[nameStart]), isBlank(bytes[open - 1]), !name.isEmpty || open - nameStart >= 2 else { return nil }
        let file = text(open..<end)
        var position = end
        let nextWord = { () -> String in
            while position < bytes.count, isBlank(bytes[position]) { position += 1 }
            let wordStart = position
            while position < bytes.count, !isBlank(bytes[position]) { position += 1 }
            return text(wordStart..<position)
        }
        var guest = nextWord()
        let afterGuest = position
        var version = nextWord()
        if !(version.hasPrefix("vmx-") && version.utf8.count > 4 && version.utf8.dropFirst(4).allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })) {
            version = ""
            position = afterGuest
        }
        while position < bytes.count, isBlank(bytes[position]) { position += 1 }
        var annotationEnd = bytes.count
        while annotationEnd > position, isBlank(bytes[annotationEnd - 1]) { annotationEnd -= 1 }
        var annotation = text(position..<annotationEnd)
        if version.isEmpty, guest.hasPrefix("vmx-") {
            // A VM with no guest OS set: the version sits in the guest column.
            version = guest
            guest = ""
        }
        if version.isEmpty, !annotation.isEmpty, guest.isEmpty { annotation = annotation.trimmingBlanks() }
        return RegisteredVM(vmid: vmid, name: HostdName.decode(name), file: file, guestOS: guest, version: version, annotation: annotation)
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == 0x0B || byte == 0x0C
    }

    /// Where the `[datastore] path.vmx` of a row starts and ends (byte offsets).
    ///
    /// A file is `[datastore]`, one blank, a path that ends in `.vmx` before a blank or the end.
    /// VM names, paths and annotations may hold brackets, blanks and `.vmx` too (`web [old]`, whose
    /// file is `[ds] web [old]/web [old].vmx`), so every `[` after a blank is a candidate, with each
    /// `.vmx` after it as a possible end, ranked: first a file followed by the guest and version
    /// columns with no run of blanks inside (column padding never falls inside a file), then one
    /// followed by those columns, then one without blank runs, else the last candidate. Tables
    /// built backwards once keep a fuzzed line full of `[` and `.vmx` linear.
    static func vmxFile(in bytes: [UInt8], from start: Int) -> (Int, Int)? {
        let count = bytes.count
        // Nearly every row has one `[`, its file's: found without building the tables below.
        if let open = bytes[start...].firstIndex(of: UInt8(ascii: "[")), !bytes[(open + 1)...].contains(UInt8(ascii: "[")) {
            guard open > start, isBlank(bytes[open - 1]), let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "]")),
                  close + 2 < count, isBlank(bytes[close + 1]), !isBlank(bytes[close + 2]) else { return nil }
            // A path may hold `.vmx ` itself (`x.vmx y/x.vmx y.vmx`): the end the columns follow.
            let ends = ((close + 2)..<count).lazy.filter { endsVMX(bytes, at: $0) }.map { $0 + 4 }
            return (ends.first { guestAndVersionFollow(bytes, from: $0) } ?? ends.first).map { (open, $0) }
        }
        // nextEnd[i]: the end of the first `.vmx` at or after i that a blank or the line's end follows.
        var nextEnd = [Int](repeating: -1, count: count + 1)
        // nextClose[i]: the first `]` at or after i.
        var nextClose = [Int](repeating: -1, count: count + 1)
        // blankPairs[i]: how many pairs of blanks start before i.
        var blankPairs = [Int](repeating: 0, count: count + 1)
        for index in stride(from: count - 1, through: 0, by: -1) {
            nextEnd[index] = endsVMX(bytes, at: index) ? index + 4 : nextEnd[index + 1]
            nextClose[index] = bytes[index] == UInt8(ascii: "]") ? index : nextClose[index + 1]
        }
        for index in 0..<count {
            blankPairs[index + 1] = blankPairs[index] + (index + 1 < count && isBlank(bytes[index]) && isBlank(bytes[index + 1]) ? 1 : 0)
        }
        let hasBlankRun = { (from: Int, to: Int) in to - from > 1 && blankPairs[to - 1] - blankPairs[from] > 0 }
        var columnsFollow: (Int, Int)?
        var noBlankRun: (Int, Int)?
        var last: (Int, Int)?
        for open in (start + 1)..<max(start + 1, count) where bytes[open] == UInt8(ascii: "[") && isBlank(bytes[open - 1]) {
            let close = nextClose[open + 1]
            guard close >= 0 else { break }
            // `[ds] path`: one blank, then the path.
            let pathStart = close + 2
            guard pathStart < count, isBlank(bytes[close + 1]), !isBlank(bytes[pathStart]) else { continue }
            var end = nextEnd[pathStart]
            guard end >= 0 else { break }
            last = (open, end)
            // A few ends per candidate: a path with more `.vmx ` in it than that is not a site's.
            for _ in 0..<8 where end >= 0 {
                let clean = !hasBlankRun(open + 1, close) && !hasBlankRun(pathStart, end)
                let followed = guestAndVersionFollow(bytes, from: end)
                if clean && followed { return (open, end) }
                if followed, columnsFollow == nil { columnsFollow = (open, end) }
                if clean, noBlankRun == nil { noBlankRun = (open, end) }
                end = nextEnd[end]
            }
        }
        return columnsFollow ?? noBlankRun ?? last
    }

    /// After a file: blanks, then `vmx-NN`, or a guest OS and then `vmx-NN`.
    private static func guestAndVersionFollow(_ bytes: [UInt8], from start: Int) -> Bool {
        var index = start
        for _ in 0..<2 {
            guard index < bytes.count, isBlank(bytes[index]) else { return false }
            while index < bytes.count, isBlank(bytes[index]) { index += 1 }
            let word = index
            while index < bytes.count, !isBlank(bytes[index]) { index += 1 }
            let digits = bytes[word..<index].dropFirst(4)
            if index - word > 4, bytes[word..<(word + 4)].elementsEqual("vmx-".utf8),
               digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                return true
            }
        }
        return false
    }

    private static func endsVMX(_ bytes: [UInt8], at index: Int) -> Bool {
        index + 4 <= bytes.count && bytes[index] == UInt8(ascii: ".") && bytes[index + 1] == UInt8(ascii: "v")
            && bytes[index + 2] == UInt8(ascii: "m") && bytes[index + 3] == UInt8(ascii: "x")
            && (index + 4 == bytes.count || isBlank(bytes[index + 4]))
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
        // Trimmed by hand: Foundation's trimming goes through NSString, and recovery filters
        // read thousands of paths per expression on a large site.
        let trimmed = Self.trimmed(Substring(text))
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            datastore = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            relativePath = String(Self.trimmed(trimmed[trimmed.index(after: close)...]))
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
        let untidy = relativePath.hasPrefix("/") || relativePath.hasSuffix("/") || relativePath.includes("//")
        return DatastorePath(datastore: labels[datastore] ?? datastore,
                             relativePath: untidy ? relativePath.split(separator: "/").joined(separator: "/") : relativePath)
    }

    static func trimmed(_ text: Substring) -> Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return text[first...last]
    }
    public var absolutePath: String { "/vmfs/volumes/\(datastore)/\(relativePath)" }
}

import Foundation

/// hostd escapes three characters in VM names: `%` as `%25`, `/` as `%2f`, `\` as `%5c`.
public enum HostdName {
    public static func decode(_ name: String) -> String {
        guard name.utf8.contains(UInt8(ascii: "%")) else { return name }
        return name.replacingOccurrences(of: "%2f", with: "/", options: .caseInsensitive)
            .replacingOccurrences(of: "%5c", with: "\\", options: .caseInsensitive)
            .replacingOccurrences(of: "%25", with: "%")
    }

    public static func encode(_ name: String) -> String {
        // Most names hold none of the three: no Foundation call for them.
        guard name.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }) else { return name }
        return name.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2f").replacingOccurrences(of: "\\", with: "%5c")
    }
}
