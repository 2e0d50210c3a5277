/// A value that flows through a run: params, inventory fields, fan-out items and captures.
///
/// `unknown` stands for a value that only exists at run time (a capture of a step the dry-run
/// did not execute). It renders as its template text so a plan shows where discovery is needed.
public indirect enum Value: Sendable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([Value])
    case map([String: Value])
    case null
    case unknown(String)

    public static func int(_ value: Int) -> Value { .number(Double(value)) }

    /// The text a value renders to inside a command or message.
    public var text: String {
        switch self {
        case .string(let string): return string
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 { return String(Int(number)) }
            return String(number)
        case .bool(let bool): return bool ? "true" : "false"
        case .list(let items): return items.map(\.text).joined(separator: " ")
        case .map(let fields):
            return "{" + fields.keys.sorted().map { "\($0): \(fields[$0]!.text)" }.joined(separator: ", ") + "}"
        case .null: return ""
        case .unknown(let expression): return expression.contains("{{") ? expression : "{{ \(expression) }}"
        }
    }

    public var isUnknown: Bool {
        switch self {
        case .unknown: return true
        case .list(let items): return items.contains(where: \.isUnknown)
        default: return false
        }
    }

    /// Truthiness used by conditions: empty strings, lists and maps, zero, false and null are false.
    public var isTruthy: Bool {
        switch self {
        case .string(let string): return !string.isEmpty && string != "false"
        case .number(let number): return number != 0
        case .bool(let bool): return bool
        case .list(let items): return !items.isEmpty
        case .map(let fields): return !fields.isEmpty
        case .null: return false
        case .unknown: return false
        }
    }

    public var listValue: [Value]? {
        if case .list(let items) = self { return items }
        return nil
    }

    public var mapValue: [String: Value]? {
        if case .map(let fields) = self { return fields }
        return nil
    }

    public var numberValue: Double? {
        switch self {
        case .number(let number): return number
        case .string(let string): return Double(string.trimmingBlanks())
        case .bool(let bool): return bool ? 1 : 0
        default: return nil
        }
    }

    /// A field of a map, or nil.
    public subscript(field: String) -> Value? {
        mapValue?[field]
    }

    /// A short name for the kind of value, used in error messages.
    public var kindName: String {
        switch self {
        case .string: return "text"
        case .number: return "number"
        case .bool: return "boolean"
        case .list: return "list"
        case .map: return "map"
        case .null: return "null"
        case .unknown: return "value known only at run time"
        }
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

import Foundation

extension Value {
    /// A JSON-compatible Foundation object, for `--json` output and journals.
    public var jsonObject: Any {
        switch self {
        case .string(let string): return string
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e15 { return Int(number) }
            return number
        case .bool(let bool): return bool
        case .list(let items): return items.map(\.jsonObject)
        case .map(let fields): return fields.mapValues(\.jsonObject)
        case .null: return NSNull()
        case .unknown(let expression): return "{{ \(expression) }}"
        }
    }
}

extension Value {
    /// A value read back from JSON (a journal): the inverse of `jsonObject`.
    public init(jsonObject: Any) {
        switch jsonObject {
        // Swift's own values first, as drctl's journal reader gives them. An NSNumber is tried last:
        // casting a dictionary to it bridges the whole dictionary to Objective-C just to say no.
        case let text as String: self = .string(text)
        case let map as [String: Any]: self = .map(map.mapValues(Value.init(jsonObject:)))
        case let list as [Any]: self = .list(list.map(Value.init(jsonObject:)))
        case let flag as Bool where type(of: jsonObject) == Bool.self: self = .bool(flag)
        case let integer as Int where type(of: jsonObject) == Int.self: self = .number(Double(integer))
        case let number as Double where type(of: jsonObject) == Double.self: self = .number(number)
        case let number as NSNumber:
            // Foundation's parser gives true/false as boolean NSNumbers (objCType "c").
            if String(cString: number.objCType) == "c" { self = .bool(number.boolValue) } else { self = .number(number.doubleValue) }
        default: self = .null
        }
    }
}
