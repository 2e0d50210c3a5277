import DrctlCore
import Engine
import Foundation

/// A run's events as JSON Lines for machines (`--events json`): the journal's entry for each
/// event (same `type` and fields, see docs/cli.md), with its time and the run id, secrets masked.
/// Outputs are inline up to `outputLimit` bytes per stream (`stdout_truncated: true` past it);
/// the journal keeps them whole. Not chained or numbered: the journal is the record.
public enum EventJSON {
    public static let outputLimit = 16 * 1024

    public static func line(for event: RunEvent, run: String, redactor: Redactor, at time: Date = Date()) -> Data {
        var fields = JournalEntry.fields(for: event, run: run)
        fields["run"] = run
        fields["time"] = JournalEntry.timestamp(time)
        switch event {
        case .commandFinished(_, _, _, _, let result):
            for (stream, text) in [("stdout", result.stdout), ("stderr", result.stderr)] {
                let masked = redactor.redact(text)
                if masked.utf8.count > outputLimit {
                    fields[stream] = String(decoding: masked.utf8.prefix(outputLimit), as: UTF8.self)
                    fields["\(stream)_truncated"] = true
                } else {
                    fields[stream] = masked
                }
            }
        case .itemFinished(_, _, let outcome) where !outcome.outputs.isEmpty:
            fields["outputs"] = Value.map(outcome.outputs).jsonObject
        default:
            break
        }
        var data = JournalJSON.encode(redactor.redactEverywhere(fields))
        data.append(0x0A)
        return data
    }
}

extension Redactor {
    /// Every text in a journal entry or event, masked, however deep.
    func redactEverywhere(_ value: Any) -> Any {
        // Nothing to mask (no secret read, no pattern): the entry is not copied to find that out.
        isEmpty ? value : maskEverywhere(value)
    }

    private func maskEverywhere(_ value: Any) -> Any {
        switch value {
        case let text as String: return redact(text)
        case let list as [Any]: return list.map(maskEverywhere)
        case let map as [String: Any]: return map.mapValues(maskEverywhere)
        default: return value
        }
    }
}
