import DrctlCore

/// Binds `--param name=value` arguments to a runbook's declared params.
public enum ParameterBinding {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Values for every param: given, default, or an error naming what is missing or unknown.
    /// Params typed `host` or `vm` must name an object of `inventory` (unless it is empty: an
    /// offline plan drawn without one). A `datastore` may be one the inventory forgot: the hosts
    /// that list it tell (datastore-failure's `ensure:` refuses one that nobody knows).
    public static func bind(_ runbook: Runbook, _ given: [String: String], inventory: Inventory = Inventory()) throws -> [String: Value] {
        var problems: [String] = []
        let names = runbook.params.map(\.name)
        for name in given.keys.sorted() where !names.contains(name) {
            problems.append("--param \(name): runbook \(runbook.name) has no param '\(name)'\(Suggestion.hint(for: name, among: names)); its params are \(names.isEmpty ? "none" : names.joined(separator: ", "))")
        }
        var values: [String: Value] = [:]
        for parameter in runbook.params {
            if let text = given[parameter.name] {
                switch convert(text, to: parameter.kind) {
                case .success(let value):
                    values[parameter.name] = value
                    if let problem = unknownObject(text, parameter.kind, in: inventory) { problems.append("--param \(parameter.name): \(problem)") }
                case .failure(let problem): problems.append("--param \(parameter.name): \(problem.description)")
                }
            } else if let value = parameter.defaultValue {
                values[parameter.name] = value
            } else if parameter.required {
                problems.append("missing --param \(parameter.name)=… (\(parameter.description.isEmpty ? "required" : parameter.description))")
            } else {
                values[parameter.name] = parameter.kind == .list ? .list([]) : .null
            }
        }
        guard problems.isEmpty else { throw Problem(description: problems.joined(separator: "\n")) }
        return values
    }

    /// Parses `name=value` pairs from the command line.
    public static func parsePairs(_ pairs: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw Problem(description: "--param \(pair): write it as name=value")
            }
            result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return result
    }

    /// Why a name is not an object of the inventory, or nil when it is (or nothing can be checked).
    static func unknownObject(_ name: String, _ kind: Runbook.Parameter.Kind, in inventory: Inventory) -> String? {
        let known: [String]
        switch kind {
        case .host: known = inventory.hosts.map(\.name)
        case .vm: known = inventory.vms.map(\.name)
        default: return nil
        }
        guard !known.isEmpty, !known.contains(name) else { return nil }
        let shown = known.count > 12 ? known.prefix(12).joined(separator: ", ") + ", ..." : known.joined(separator: ", ")
        return "'\(name)' is not a \(kind.rawValue) of the inventory\(Suggestion.hint(for: name, among: known)); its \(kind.rawValue)s are \(shown)"
    }

    static func convert(_ text: String, to kind: Runbook.Parameter.Kind) -> Result<Value, Problem> {
        switch kind {
        case .text, .host, .datastore, .vm: return .success(.string(text))
        case .number:
            guard let number = Double(text) else { return .failure(Problem(description: "'\(text)' is not a number")) }
            return .success(.number(number))
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "1": return .success(.bool(true))
            case "false", "no", "0": return .success(.bool(false))
            default: return .failure(Problem(description: "'\(text)' is not true or false"))
            }
        case .list:
            return .success(.list(text.split(separator: ",").map { .string($0.trimmingBlanks()) }.filter { !$0.text.isEmpty }))
        }
    }
}

import Foundation
