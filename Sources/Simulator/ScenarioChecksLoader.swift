import DrctlCore
import Foundation
import RunbookFormat

/// The parts of a scenario that say what happens and what must come of it: faults, end-state
/// expectations, the expected outcome and, for generated sites, the invariants.
extension ScenarioLoader {
    static func parseFault(_ node: YAMLNode, hostNames: [String], datastores: [String], vms: [String], _ reader: YAMLReader) -> FaultRule? {
        guard let pairs = reader.mapping(node, "a fault", allowed: faultEffects + ["after_commands", "after_step"]) else { return nil }
        var trigger = FaultRule.Trigger.start
        var effect: FaultRule.Effect?
        func name(_ value: YAMLNode, among known: [String], _ what: String) -> String? {
            guard let text = reader.string(value, what) else { return nil }
            if !known.contains(text) { reader.report(value, "no \(what) '\(text)' in this scenario\(Suggestion.hint(for: text, among: known))") }
            return text
        }
        for (key, _, value) in pairs {
            switch key {
            case "after_commands": trigger = .afterCommands(reader.integer(value, "after_commands", range: 1...1_000_000) ?? 1)
            case "after_step": trigger = .afterStep(reader.string(value, "after_step") ?? "")
            case "host_down": effect = name(value, among: hostNames, "host").map { .hostState(host: $0, state: .down) }
            case "host_hung": effect = name(value, among: hostNames, "host").map { .hostState(host: $0, state: .hung) }
            case "hostd_crashed": effect = name(value, among: hostNames, "host").map { .hostdCrashed(host: $0) }
            case "commands_stall": effect = name(value, among: hostNames, "host").map { .commandsStall(host: $0) }
            case "datastore_apd": effect = name(value, among: datastores, "datastore").map { .datastoreCondition(datastore: $0, condition: .apd) }
            case "datastore_pdl": effect = name(value, among: datastores, "datastore").map { .datastoreCondition(datastore: $0, condition: .pdl) }
            case "power_on_fails": effect = name(value, among: vms, "vm").map { .powerOnFails(vm: $0) }
            case "registration_refused":
                var host = "", datastore = ""
                for (field, _, item) in reader.mapping(value, "registration_refused", allowed: ["host", "datastore"]) ?? [] {
                    if field == "host" { host = name(item, among: hostNames, "host") ?? "" }
                    if field == "datastore" { datastore = name(item, among: datastores, "datastore") ?? "" }
                }
                effect = .registrationRefused(host: host, datastore: datastore)
            case "registration_lands_late":
                var vm = "", after = 3
                for (field, _, item) in reader.mapping(value, "registration_lands_late", allowed: ["vm", "after_commands"]) ?? [] {
                    if field == "vm" { vm = name(item, among: vms, "vm") ?? "" }
                    if field == "after_commands" { after = reader.integer(item, "after_commands", range: 0...1_000_000) ?? 3 }
                }
                effect = .lateRegistration(vm: vm, afterCommands: after)
            case "vcenter_down": effect = .vcenterDown
            case "latency":
                let (fixed, jitter) = parseLatency(value, reader)
                effect = .latency(fixedMilliseconds: fixed, jitterMilliseconds: jitter)
            case "datastore_returns":
                var datastore = "", rescans: Int?, returnsAs = SimDatastore.Condition.ok
                for (field, _, item) in reader.mapping(value, "datastore_returns", allowed: ["datastore", "after_rescans", "as", "never"]) ?? [] {
                    if field == "datastore" { datastore = name(item, among: datastores, "datastore") ?? "" }
                    if field == "after_rescans" { rescans = reader.integer(item, "after_rescans", range: 1...1000) }
                    if field == "as" { returnsAs = condition(item, reader) ?? .ok }
                }
                effect = .datastoreReturns(datastore: datastore, afterRescans: rescans, returnsAs: returnsAs)
            case "random_failures":
                var rate = 0.1, matching = ""
                for (field, _, item) in reader.mapping(value, "random_failures", allowed: ["rate", "matching"]) ?? [] {
                    if field == "rate" {
                        rate = reader.double(item, "rate") ?? 0.1
                        if !(0...1).contains(rate) { reader.report(item, "rate is a fraction of commands, from 0 to 1 (0.05 for 5%)"); rate = 0.1 }
                    }
                    if field == "matching" { matching = reader.string(item, "matching") ?? "" }
                }
                effect = .randomFailures(rate: rate, matching: matching)
            case "drop_connection":
                var host = "", matching = "", times = 1
                for (field, _, item) in reader.mapping(value, "drop_connection", allowed: ["host", "matching", "times"]) ?? [] {
                    if field == "host" { host = name(item, among: hostNames, "host") ?? "" }
                    if field == "matching" { matching = reader.string(item, "matching") ?? "" }
                    if field == "times" { times = reader.integer(item, "times", range: 1...1000) ?? 1 }
                }
                effect = .dropConnection(host: host, matching: matching, times: times)
            default: break
            }
        }
        guard let effect else {
            reader.report(node, "a fault needs one effect: \(faultEffects.joined(separator: ", "))")
            return nil
        }
        return FaultRule(trigger: trigger, effect: effect)
    }

    static func parseExpectation(_ node: YAMLNode, hostNames: [String], datastores: [String], vms: [String], _ reader: YAMLReader) -> Scenario.Expectation? {
        guard let pairs = reader.mapping(node, "an expectation", allowed: ["vm", "power", "host_in", "host_not", "registered", "datastore",
                                                                          "mounted_on", "vcenter", "host", "maintenance", "hostd"]) else { return nil }
        var fields: [String: YAMLNode] = [:]
        for (key, _, value) in pairs { fields[key] = value }
        func names(_ key: String, among known: [String]) -> [String]? {
            guard let value = fields[key] else { return nil }
            return (reader.sequence(value, key) ?? []).compactMap { item in
                guard let text = reader.string(item, key) else { return nil }
                if !known.contains(text) { reader.report(item, "no '\(text)' in this scenario\(Suggestion.hint(for: text, among: known))") }
                return text
            }
        }
        if let vmNode = fields["vm"], let name = reader.string(vmNode, "vm") {
            if !vms.contains(name) { reader.report(vmNode, "no vm '\(name)' in this scenario\(Suggestion.hint(for: name, among: vms))") }
            let power = fields["power"].flatMap { node in
                reader.string(node, "power").flatMap { text in
                    SimVM.Power(rawValue: text) ?? {
                        reader.report(node, "power must be on, off or suspended\(Suggestion.hint(for: text, among: ["on", "off", "suspended"])), not '\(text)'")
                        return nil
                    }()
                }
            }
            return .vm(name: name, power: power, hostIn: names("host_in", among: hostNames), hostNot: names("host_not", among: hostNames),
                       registeredOnce: fields["registered"].flatMap { reader.boolean($0, "registered") } ?? false)
        }
        if let datastoreNode = fields["datastore"], let name = reader.string(datastoreNode, "datastore") {
            if !datastores.contains(name) { reader.report(datastoreNode, "no datastore '\(name)' in this scenario\(Suggestion.hint(for: name, among: datastores))") }
            return .datastore(name: name, mountedOn: names("mounted_on", among: hostNames) ?? [])
        }
        if let vcenterNode = fields["vcenter"] {
            return .vcenter(running: ScenarioLoader.serviceState(vcenterNode, reader))
        }
        if let hostNode = fields["host"], let name = reader.string(hostNode, "host") {
            if !hostNames.contains(name) { reader.report(hostNode, "no host '\(name)' in this scenario\(Suggestion.hint(for: name, among: hostNames))") }
            return .host(name: name, maintenance: fields["maintenance"].flatMap { reader.boolean($0, "maintenance") },
                         hostdRunning: fields["hostd"].map { serviceState($0, reader) })
        }
        reader.report(node, "an expectation names a vm, a datastore, a host or vcenter")
        return nil
    }

    /// `invariants: { failed_host: esxi-03 }`, `{ lost_datastore: ds-gold }` or `{ vcenter: true }`.
    static func parseInvariants(_ node: YAMLNode, hostNames: [String], datastores: [String], _ reader: YAMLReader) -> SiteInvariants? {
        guard let pairs = reader.mapping(node, "invariants", allowed: ["failed_host", "lost_datastore", "vcenter"]), let (key, _, value) = pairs.first else {
            reader.report(node, "invariants name what failed: failed_host, lost_datastore or vcenter")
            return nil
        }
        let name = reader.string(value, key) ?? ""
        switch key {
        case "failed_host":
            if !hostNames.contains(name) { reader.report(value, "no host '\(name)' in this scenario\(Suggestion.hint(for: name, among: hostNames))") }
            return SiteInvariants(subject: .failedHost(name))
        case "lost_datastore":
            if !datastores.contains(name) { reader.report(value, "no datastore '\(name)' in this scenario\(Suggestion.hint(for: name, among: datastores))") }
            return SiteInvariants(subject: .lostDatastore(name))
        default:
            return SiteInvariants(subject: .vcenter)
        }
    }

    static func expectedOutcome(_ node: YAMLNode?, _ reader: YAMLReader) -> String? {
        guard let node, let text = reader.string(node, "expect_outcome") else { return nil }
        guard outcomes.contains(text) else {
            reader.report(node, "expect_outcome must be one of \(outcomes.joined(separator: ", "))\(Suggestion.hint(for: text, among: outcomes))")
            return nil
        }
        return text
    }
    static let faultEffects = ["host_down", "host_hung", "hostd_crashed", "commands_stall", "datastore_apd", "datastore_pdl", "datastore_returns",
                               "vcenter_down", "latency", "random_failures", "drop_connection", "power_on_fails",
                               "registration_lands_late", "registration_refused"]
}
