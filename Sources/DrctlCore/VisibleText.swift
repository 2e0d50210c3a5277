/// Text from hosts, runbooks, inventories and scenarios made safe to show: a VM named with
/// escape sequences must not move the cursor, erase the approval prompt, retitle the terminal or
/// write the clipboard (OSC 52). C0 and C1 controls, DEL and bidirectional overrides become
/// visible escapes (`\e[1A`, `\x07`, `\u{9b}`); newlines and tabs stay. Journals keep the raw bytes.
public enum VisibleText {
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var shown = ""
        shown.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else { shown.unicodeScalars.append(scalar); continue }
            switch scalar.value {
            case 0x1B: shown += "\\e"
            case 0x0D: shown += "\\r"
            case 0x00...0x1F, 0x7F: shown += "\\x" + hex(scalar.value, digits: 2)
            default: shown += "\\u{" + String(scalar.value, radix: 16) + "}"
            }
        }
        return shown
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        // Bidirectional overrides and isolates reorder what is shown ("Trojan Source").
        case 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
