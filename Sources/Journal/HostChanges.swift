import Foundation

/// Every command that changed a host, for the report's table: when, where, who ran it (the
/// account of the attempt that sent it) and how it ended. Read from the journal alone.
public struct HostChange: Equatable {
    public var at: Date
    public var host: String
    public var step: String
    public var item: String
    public var command: String
    public var by: String
    /// `exit 0`, `exit 1 (signal KILL)`, `failed: ...`, or no result (in flight when the run stopped).
    public var result: String
    public var succeeded: Bool

    static let noResult = "no result: in flight when the run stopped"

    static func all(in entries: [[String: Any]]) -> [HostChange] {
        var changes: [HostChange] = []
        var open: [String: [Int]] = [:]
        var by = ""
        for entry in entries {
            let type = entry["type"] as? String ?? ""
            /// Which command a result answers: built only for the entries that need it.
            var commandKey: String { ["step", "index", "host", "command"].map { "\(entry[$0] ?? "")" }.joined(separator: "\u{0}") }
            switch type {
            case "run-started", "run-resumed":
                by = entry["operator"] as? String ?? ""
            case "command-sent" where entry["mutates"] as? Bool == true:
                open[commandKey, default: []].append(changes.count)
                changes.append(HostChange(at: RunReport.date(entry) ?? Date(timeIntervalSince1970: 0), host: entry["host"] as? String ?? "",
                                          step: entry["step"] as? String ?? "", item: entry["item"] as? String ?? "",
                                          command: entry["command"] as? String ?? "", by: by, result: noResult, succeeded: false))
            case "command-finished", "command-failed":
                guard !open.isEmpty else { continue }
                let key = commandKey
                guard var positions = open[key], !positions.isEmpty else { continue }
                let position = positions.removeFirst()
                open[key] = positions
                if type == "command-failed" {
                    changes[position].result = "failed: \(entry["error"] as? String ?? "")"
                } else {
                    let status = entry["exit_status"] as? Int ?? -1
                    changes[position].result = "exit \(status)" + ((entry["exit_signal"] as? String).map { " (signal \($0))" } ?? "")
                    changes[position].succeeded = status == 0
                }
            default:
                continue
            }
        }
        return changes
    }
}
