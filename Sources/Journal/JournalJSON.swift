import DrctlCore
import Foundation

/// Encodes a journal entry as one line of JSON with its keys sorted. Foundation's serializer
/// sorts keys with locale-aware comparison, which made it most of the journal's cost per event;
/// entries only hold strings, numbers, booleans, null, arrays and objects, so this is all it takes.
enum JournalJSON {
    static func encode(_ object: Any) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        append(object, to: &bytes)
        return Data(bytes)
    }

    /// Written as UTF-8 bytes: appending to a byte array costs a fraction of appending to a String,
    /// and every event of a run passes through here before it may go on.
    private static func append(_ object: Any, to bytes: inout [UInt8]) {
        switch object {
        // Swift's own values first, an NSNumber last: casting an array or a dictionary to NSNumber
        // bridges it whole to Objective-C just to say no, and that was most of what a line cost.
        case let string as String: appendString(string, to: &bytes)
        case let map as [String: Any]:
            bytes.append(UInt8(ascii: "{"))
            for (index, field) in map.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(field.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                append(field.value, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        case let list as [Any]:
            bytes.append(UInt8(ascii: "["))
            for (index, element) in list.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(element, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case let flag as Bool where type(of: object) == Bool.self: bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case let integer as Int where type(of: object) == Int.self: bytes.append(contentsOf: String(integer).utf8)
        case let number as NSNumber: appendNumber(number, to: &bytes)
        default: bytes.append(contentsOf: "null".utf8)
        }
    }

    /// A value's JSON, byte for byte what encoding its `jsonObject` gives, without building that
    /// object first: a large output (every VM of every survivor) would otherwise be held twice
    /// more. `mask` rewrites each string value, as `Redactor.redactEverywhere` does (keys stay).
    static func encode(_ value: Value, masking mask: ((String) -> String)? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        append(value, masking: mask, to: &bytes)
        return bytes
    }

    private static func append(_ value: Value, masking mask: ((String) -> String)?, to bytes: inout [UInt8]) {
        switch value {
        case .string(let text): appendString(mask?(text) ?? text, to: &bytes)
        case .unknown:
            let text = value.jsonObject as? String ?? ""
            appendString(mask?(text) ?? text, to: &bytes)
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 {
                bytes.append(contentsOf: String(Int(number)).utf8)
            } else {
                bytes.append(contentsOf: (number.isFinite ? "\(number)" : "null").utf8)
            }
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: bytes.append(contentsOf: "null".utf8)
        case .list(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(item, masking: mask, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .map(let fields):
            bytes.append(UInt8(ascii: "{"))
            for (index, field) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(field.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                append(field.value, masking: mask, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static func appendNumber(_ number: NSNumber, to bytes: inout [UInt8]) {
        let text: String
        if String(cString: number.objCType) == "c" {
            text = number.boolValue ? "true" : "false"
        } else if let integer = Int(exactly: number.doubleValue), String(cString: number.objCType) != "d" || abs(number.doubleValue) < 1e15 {
            text = String(integer)
        } else if number.doubleValue.isFinite {
            text = "\(number.doubleValue)"
        } else {
            text = "null"
        }
        bytes.append(contentsOf: text.utf8)
    }

    private static func appendString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            // Runs that need no escape are copied whole: a journal line carries each command's output.
            var clean = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                // Only these bytes can start a scalar that is escaped: ASCII controls, quote, backslash,
                // DEL, and the lead bytes of U+0080–U+009F (0xC2) and U+2028/U+2029 (0xE2).
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || byte == 0xC2 || byte == 0xE2 else {
                    index += 1
                    continue
                }
                let (scalar, length) = decodeScalar(utf8, at: index)
                if let escape = escaped(scalar) {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<index]))
                    bytes.append(contentsOf: escape.utf8)
                    clean = index + length
                }
                index += length
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The scalar starting at a lead byte of valid UTF-8 (a String's own bytes), and its length.
    private static func decodeScalar(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> (Unicode.Scalar, Int) {
        var decoder = UTF8()
        var iterator = utf8[index...].makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return ("\u{FFFD}", 1) }
        return (scalar, UTF8.width(scalar))
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
