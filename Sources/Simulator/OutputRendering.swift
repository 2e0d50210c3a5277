import Foundation

/// Renders state in the layouts ESXi prints (see ../shared/reference/esxi-real-outputs.md).
enum Render {
    struct Column {
        var header: String
        var rightAligned: Bool
    }

    /// An esxcli table: each column as wide as its longest value or header, a dash rule under the
    /// header, two blanks between columns, numbers and booleans right-aligned (headers too).
    static func esxcliTable(_ columns: [Column], _ rows: [[String]]) -> String {
        let widths = columns.indices.map { index in
            max(columns[index].header.count, rows.map { $0[index].count }.max() ?? 0)
        }
        func line(_ cells: [String]) -> String {
            cells.indices.map { index in
                let cell = cells[index]
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                if columns[index].rightAligned { return padding + cell }
                return index == cells.count - 1 ? cell : cell + padding
            }.joined(separator: "  ")
        }
        var lines = [line(columns.map(\.header)), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(line)
        return lines.joined(separator: "\n") + "\n"
    }

    /// An esxcli record list: the key in column 0, fields indented three blanks. Empty values
    /// keep their trailing blank, as ESXi prints them.
    static func records(_ records: [(key: String, fields: [(String, String)])], blankLineAfterEach: Bool = false) -> String {
        var lines: [String] = []
        for record in records {
            lines.append(record.key)
            lines += record.fields.map { "   \($0.0): \($0.1)" }
            if blankLineAfterEach { lines.append("") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A vSphere fault block in the 6.x+ layout: `, ` with a trailing blank after members, none
    /// before `msg`, inner quotes unescaped.
    static func fault(_ type: String, members: [(String, String)] = [], message: String, prefix: String = "") -> String {
        var lines = ["\(prefix)(\(type)) {", "   faultCause = (vmodl.MethodFault) null, "]
        let all = [("faultMessage", "<unset>")] + members
        for (index, member) in all.enumerated() {
            lines.append("   \(member.0) = \(member.1)" + (index == all.count - 1 ? "" : ", "))
        }
        lines.append("   msg = \"\(message)\"")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `vim-cmd vmsvc/getallvms`: columns padded to their widest value, three blanks apart.
    static func vmTable(_ rows: [[String]]) -> String {
        let headers = ["Vmid", "Name", "File", "Guest OS", "Version", "Annotation"]
        // Each cell's width counted once (Characters are counted by walking the string).
        let counted = ([headers] + rows).map { cells in cells.map { ($0, $0.utf8.allSatisfy { $0 < 0x80 } ? $0.utf8.count : $0.count) } }
        let widths = headers.indices.map { index in counted.map { $0[index].1 }.max() ?? 0 }
        var table = ""
        for cells in counted {
            var line = ""
            for (index, (text, width)) in cells.enumerated() {
                if index > 0 { line += "   " }
                line += text
                if index < cells.count - 1 { line += String(repeating: " ", count: widths[index] - width) }
            }
            table += line.trimmingTrailingBlanks + "\n"
        }
        return table
    }

    static func bytesHuman(_ bytes: Int64) -> String {
        let units = ["", "K", "M", "G", "T", "P"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes)" : String(format: "%.1f%@", value, units[unit])
    }
}

extension String {
    /// Without the blanks at the end of the line (hostd pads every column but the last).
    var trimmingTrailingBlanks: String {
        guard let last = lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        return String(self[...last])
    }
}
