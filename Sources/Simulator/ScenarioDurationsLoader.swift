import RunbookFormat

/// A scenario's `durations:` section: ESXi's times to use instead of the defaults (docs/simulator.md).
///
///     durations:
///       jitter: 10%                           # for every figure below that sets none
///       power_on: 5s                          # typical time
///       rescan_per_adapter: { typical: 20s, jitter: 50% }
///       guest_boot: { windows: 4m, linux: { typical: 30s, jitter: 10% } }
///
/// `durations: none` makes every command and boot take no time.
extension ScenarioLoader {
    static func parseDurations(_ node: YAMLNode, _ reader: YAMLReader) -> CommandDurations {
        if case .scalar(let scalar) = node, scalar.string == "none" { return .none }
        var durations = CommandDurations.defaults
        let kinds = CommandDurations.Kind.allCases.map(\.rawValue)
        let entries = reader.mapping(node, "durations", allowed: kinds + ["guest_boot", "jitter"]) ?? []
        // `jitter:` first, for every figure; a figure's own jitter below still wins.
        for (key, _, value) in entries where key == "jitter" {
            if let percent = parsePercent(value, what: "jitter", reader) {
                for kind in durations.commands.keys { durations.commands[kind]!.jitterPercent = percent }
                for family in durations.guestBoot.keys { durations.guestBoot[family]!.jitterPercent = percent }
            }
        }
        for (key, keyNode, value) in entries where key != "jitter" {
            if key == "guest_boot" {
                for (family, _, spread) in reader.mapping(value, "guest_boot", allowed: ["linux", "windows", "other"]) ?? [] {
                    durations.guestBoot[family] = parseSpread(spread, default: durations.guestBoot[family]!, what: "guest_boot.\(family)", reader)
                }
                continue
            }
            guard let kind = CommandDurations.Kind(rawValue: key) else { reader.report(keyNode, "unknown duration '\(key)'"); continue }
            durations.commands[kind] = parseSpread(value, default: durations.commands[kind]!, what: key, reader)
        }
        return durations
    }

    /// `5s`, or `{ typical: 5s, jitter: 20% }`.
    static func parseSpread(_ node: YAMLNode, default spread: CommandDurations.Spread, what: String, _ reader: YAMLReader) -> CommandDurations.Spread {
        var result = spread
        guard case .mapping = node else {
            if let time = reader.duration(node, what) { result.milliseconds = Int(time.milliseconds) }
            return result
        }
        for (key, _, value) in reader.mapping(node, what, allowed: ["typical", "jitter"]) ?? [] {
            if key == "typical" {
                if let time = reader.duration(value, "\(what).typical") { result.milliseconds = Int(time.milliseconds) }
            } else if let percent = parsePercent(value, what: "\(what).jitter", reader) {
                result.jitterPercent = percent
            }
        }
        return result
    }

    static func parsePercent(_ node: YAMLNode, what: String, _ reader: YAMLReader) -> Int? {
        let text = (reader.string(node, what) ?? "").replacingOccurrences(of: "%", with: "")
        guard let percent = Int(text), (0...100).contains(percent) else {
            reader.report(node, "\(what) must be a percentage from 0% to 100%, like 20%")
            return nil
        }
        return percent
    }
}
