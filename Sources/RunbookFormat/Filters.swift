import DrctlCore

extension ExpressionEvaluator {
    nonisolated(unsafe) static let unfilledPlaceholder = try! Regex(#"\{[A-Za-z_][A-Za-z0-9_]*\}"#)

    /// The filters of the template language; `docs/runbook-format.md` lists them with examples.
    static func applyFilter(_ name: String, to value: Value, arguments: [Value]) throws -> Value {
        func argument(_ index: Int) throws -> Value {
            guard arguments.indices.contains(index) else { throw EvaluationError("filter '\(name)' needs \(index + 1) argument(s)") }
            return arguments[index]
        }
        func list() throws -> [Value] {
            switch value {
            case .list(let items): return items
            case .null: return []
            default: throw EvaluationError("filter '\(name)' needs a list, got a \(value.kindName)")
            }
        }
        switch name {
        case "raw": return value
        case "join": return .string(try list().map(\.text).joined(separator: arguments.first?.text ?? ","))
        case "default":
            if value == .null || (value.isStringLike && value.text.isEmpty) || value.listValue?.isEmpty == true { return try argument(0) }
            return value
        case "where":
            let field = try argument(0).text
            let expected = try argument(1)
            return .list(try list().filter { item in item[field].map { equal($0, expected) } ?? false })
        case "where_in", "where_not_in":
            let field = try argument(0).text
            let allowed = try argument(1).listValue ?? [try argument(1)]
            return .list(try list().filter { item in
                let found = item[field].map { value in allowed.contains { equal($0, value) } } ?? false
                return found == (name == "where_in")
            })
        case "merge":
            // Adds the fields of the entry with the same name in another list (inventory metadata).
            let others = try argument(0).listValue ?? []
            let key = arguments.count > 1 ? arguments[1].text : "name"
            return .list(try list().map { item in
                guard var fields = item.mapValue, let match = others.first(where: { other in other[key].map { equal($0, item[key] ?? .null) } ?? false }),
                      let extra = match.mapValue else { return item }
                for (field, value) in extra where fields[field] == nil || fields[field] == .null { fields[field] = value }
                return .map(fields)
            })
        case "concat": return .list(try list() + (try argument(0).listValue ?? [try argument(0)]))
        case "unique_by":
            let field = try argument(0).text
            var seen = Set<Value>()
            return .list(try list().filter { seen.insert($0[field] ?? $0).inserted })
        case "format":
            // `format('{name} -> {target_host}')`: one line of text per map.
            let pattern = try argument(0).text
            return .list(try list().map { item in
                var text = pattern
                for (field, value) in item.mapValue ?? ["item": item] { text = text.replacingOccurrences(of: "{\(field)}", with: value.text) }
                // A field the map lacks reads '?', never the placeholder itself, and is noted for a warning.
                for match in text.matches(of: unfilledPlaceholder) {
                    let field = text[match.range].dropFirst().dropLast()
                    MissingFields.current?.add("\(field) of \(item["name"]?.text ?? item.text)")
                }
                return .string(text.replacing(unfilledPlaceholder, with: "?"))
            })
        case "sum": return .number(try list().compactMap(\.numberValue).reduce(0, +))
        case "place":
            return try Placement.place(try list(), hosts: try argument(0).listValue ?? [],
                                       policy: try CapacityPolicy(arguments.count > 1 ? arguments[1] : nil),
                                       filesystems: arguments.count > 2 ? arguments[2].listValue : nil)
        case "compact": return .list(try list().filter { $0 != .null })
        case "capacity_policy":
            // On the run's params: memory_overcommit, max_vms_per_host, honour_reservations.
            return CapacityPolicy(params: value.mapValue ?? [:]).value
        case _ where RecoveryFilters.names.contains(name):
            return try RecoveryFilters.apply(name, to: value, arguments: arguments)
        case "exclude":
            let excluded = try argument(0)
            let excludedItems = excluded.listValue ?? [excluded]
            return .list(try list().filter { item in
                !excludedItems.contains { excludedItem in
                    equal(excludedItem, item) || (item["name"].map { equal($0, excludedItem) } ?? false)
                }
            })
        case "map":
            let field = try argument(0).text
            return .list(try list().map { $0[field] ?? .null })
        case "names": return .list(try list().map { $0["name"] ?? $0 })
        case "first": return try list().first ?? .null
        case "last": return try list().last ?? .null
        case "count":
            switch value {
            case .list(let items): return .int(items.count)
            case .map(let fields): return .int(fields.count)
            case .null: return .int(0)
            default: return .int(value.text.count)
            }
        case "lower": return .string(value.text.lowercased())
        case "upper": return .string(value.text.uppercased())
        case "trim": return .string(value.text.trimmingWhitespace())
        case "words": return .list(value.text.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
        case "sort":
            let field = arguments.first?.text
            return .list(try list().sorted { a, b in
                let left = field.flatMap { a[$0] } ?? a
                let right = field.flatMap { b[$0] } ?? b
                if let x = left.numberValue, let y = right.numberValue { return x < y }
                return left.text < right.text
            })
        case "unique":
            var seen = Set<Value>()
            return .list(try list().filter { seen.insert($0).inserted })
        case "flatten": return .list(try list().flatMap { $0.listValue ?? [$0] })
        case "int":
            guard let number = value.numberValue else { throw EvaluationError("'\(value.text)' is not a number") }
            return .number(number.rounded(.towardZero))
        case "keys":
            guard let fields = value.mapValue else { throw EvaluationError("filter 'keys' needs a map") }
            return .list(fields.keys.sorted().map(Value.string))
        default:
            throw EvaluationError("unknown filter '\(name)'" + Suggestion.hint(for: name, among: filterNames))
        }
    }
}

import Foundation

/// The fields `format` could not fill while a template was evaluated (`{priority}` of a VM that has
/// none), so what is shown as `?` can be named beside it.
public final class MissingFields: @unchecked Sendable {
    @TaskLocal public static var current: MissingFields?

    private let lock = NSLock()
    private var noted: [String] = []

    public init() {}

    func add(_ what: String) {
        lock.withLock { if !noted.contains(what) { noted.append(what) } }
    }

    public var fields: [String] { lock.withLock { noted } }
}
