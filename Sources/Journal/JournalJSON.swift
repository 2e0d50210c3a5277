import Foundation

/// Encodes a journal entry as one line of JSON with its keys sorted. Foundation's serializer
/// sorts keys with locale-aware comparison, which made it most of the journal's cost per event;
/// entries only hold strings, numbers, booleans, null, arrays and objects, so this is all it takes.
enum JournalJSON {
    static func encode(_ object: Any) -> Data {
        var text = ""
        append(object, to: &text)
        return Data(text.utf8)
    }

    private static func append(_ object: Any, to text: inout String) {
        switch object {
        // Swift's own values first, an NSNumber last: casting an array or a dictionary to NSNumber
        // bridges it whole to Objective-C just to say no, and that was most of what a line cost.
        case let string as String: appendString(string, to: &text)
        case let map as [String: Any]:
            text += "{"
            for (index, field) in map.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { text += "," }
                appendString(field.key, to: &text)
                text += ":"
                append(field.value, to: &text)
            }
            text += "}"
        case let list as [Any]:
            text += "["
            for (index, element) in list.enumerated() {
                if index > 0 { text += "," }
                append(element, to: &text)
            }
            text += "]"
        case let flag as Bool where type(of: object) == Bool.self: text += flag ? "true" : "false"
        case let integer as Int where type(of: object) == Int.self: text += String(integer)
        case let number as NSNumber: appendNumber(number, to: &text)
        default: text += "null"
        }
    }

    private static func appendNumber(_ number: NSNumber, to text: inout String) {
        if String(cString: number.objCType) == "c" {
            text += number.boolValue ? "true" : "false"
        } else if let integer = Int(exactly: number.doubleValue), String(cString: number.objCType) != "d" || abs(number.doubleValue) < 1e15 {
            text += String(integer)
        } else if number.doubleValue.isFinite {
            text += "\(number.doubleValue)"
        } else {
            text += "null"
        }
    }

    private static func appendString(_ string: String, to text: inout String) {
        text += "\""
        // Runs that need no escape are copied whole: a journal line carries each command's
        // output, and escaping scalar by scalar was most of what journaling cost.
        let scalars = string.unicodeScalars
        var clean = scalars.startIndex
        var index = string.utf8.startIndex
        while index < string.utf8.endIndex {
            let byte = string.utf8[index]
            // Only these bytes can start a scalar that is escaped: ASCII controls, quote, backslash,
            // DEL, and the lead bytes of U+0080–U+009F (0xC2) and U+2028/U+2029 (0xE2).
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || byte == 0xC2 || byte == 0xE2 else {
                index = string.utf8.index(after: index)
                continue
            }
            let next = scalars.index(after: index)
            if let escape = escaped(scalars[index]) {
                text.append(contentsOf: Substring(scalars[clean..<index]))
                text += escape
                clean = next
            }
            index = next
        }
        text.append(contentsOf: Substring(scalars[clean...]))
        text += "\""
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String? {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: return nil
        }
    }
}
