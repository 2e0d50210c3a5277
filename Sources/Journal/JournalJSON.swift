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
        case let string as String: appendString(string, to: &text)
        case let number as NSNumber: appendNumber(number, to: &text)
        case let list as [Any]:
            text += "["
            for (index, element) in list.enumerated() {
                if index > 0 { text += "," }
                append(element, to: &text)
            }
            text += "]"
        case let map as [String: Any]:
            text += "{"
            for (index, key) in map.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                appendString(key, to: &text)
                text += ":"
                append(map[key]!, to: &text)
            }
            text += "}"
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
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
