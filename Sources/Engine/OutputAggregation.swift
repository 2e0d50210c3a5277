import DrctlCore

/// How outputs of several instances (hosts, items) become one `steps.ID.NAME` value.
enum OutputAggregation {
    /// One instance keeps its values. Several give, per name, the lists joined or the values listed.
    static func combine(_ instances: [[String: Value]]) -> [String: Value] {
        if instances.count == 1 { return instances[0] }
        var names: [String] = []
        for instance in instances {
            for name in instance.keys.sorted() where !names.contains(name) { names.append(name) }
        }
        var combined: [String: Value] = [:]
        for name in names {
            let values = instances.compactMap { $0[name] }
            if values.contains(where: { if case .unknown = $0 { return true } else { return false } }) {
                combined[name] = values.first { if case .unknown = $0 { return true } else { return false } }
            } else if values.allSatisfy({ $0.listValue != nil }) {
                combined[name] = .list(values.flatMap { $0.listValue! })
            } else {
                combined[name] = .list(values)
            }
        }
        return combined
    }
}
