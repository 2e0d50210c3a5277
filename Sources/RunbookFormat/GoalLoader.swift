import DrctlCore
import ESXi

/// Reads `goal:` (see `Goal`).
extension RunbookLoader {
    static func parseGoal(_ node: YAMLNode, _ reader: YAMLReader) -> Goal? {
        guard let pairs = reader.mapping(node, "goal", allowed: ["description", "read", "require"]) else { return nil }
        var goal = Goal(description: "", read: [], require: [], location: reader.location(node))
        for (key, _, value) in pairs {
            switch key {
            case "description": goal.description = reader.string(value, "description") ?? ""
            case "read":
                goal.read = (reader.sequence(value, "goal.read") ?? []).compactMap { item in
                    guard let step = parseStep(item, reader) else { return nil }
                    checkGoalRead(step, reader)
                    return step
                }
            case "require":
                goal.require = (reader.sequence(value, "goal.require") ?? []).compactMap { parseRequirement($0, reader) }
            default: break
            }
        }
        if goal.require.isEmpty {
            reader.report(node, "a goal needs 'require:', e.g. - each: \"{{ steps.find.vms }}\" with holds: \"...\"")
        }
        return goal
    }

    /// Goal reads look at the end state; they never change it and do not fan out.
    static func checkGoalRead(_ step: Step, _ reader: YAMLReader) {
        let name = "goal read '\(step.id)'"
        if step.mutates { reader.report(step.location, "\(name) changes the host; a goal only reads (use a read-only action, or mutates: false)") }
        if case .approval = step.kind { reader.report(step.location, "\(name) is an approval; a goal only reads") }
        if let foreach = step.keyLocations["foreach"] { reader.report(foreach, "\(name) cannot fan out: read the hosts with on: instead") }
        if let needs = step.keyLocations["needs"] { reader.report(needs, "\(name) runs after every step anyway: remove needs") }
    }

    static func parseRequirement(_ node: YAMLNode, _ reader: YAMLReader) -> Goal.Requirement? {
        guard let pairs = reader.mapping(node, "a goal requirement", allowed: ["each", "set", "holds", "shows", "none_found"]) else { return nil }
        var each: LocatedTemplate?
        var holds: LocatedCondition?
        var shows: LocatedTemplate?
        var noneFound: LocatedTemplate?
        var set: [(name: String, template: LocatedTemplate)] = []
        for (key, _, value) in pairs {
            switch key {
            case "each": each = parseForeach(value, reader)
            case "holds": holds = reader.condition(value, "holds")
            case "shows": shows = reader.template(value, "shows")
            case "none_found": noneFound = reader.template(value, "none_found")
            case "set":
                for (name, _, item) in reader.mapping(value, "set", allowed: mappingKeys(value)) ?? [] {
                    if let template = reader.template(item, "set.\(name)") { set.append((name, template)) }
                }
            default: break
            }
        }
        guard let each, let holds else {
            reader.report(node, "a goal requirement needs 'each' (the list to check) and 'holds' (the condition each item must meet)")
            return nil
        }
        return Goal.Requirement(each: each, set: set, holds: holds, shows: shows, noneFound: noneFound, location: reader.location(node))
    }
}
