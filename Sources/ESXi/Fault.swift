import DrctlCore
/// A vSphere fault printed by `vim-cmd`, e.g. `(vim.fault.NotFound) { ... msg = "..." }`.
///
/// Both layouts are read: 4.x/5.x (`dynamicType = <unset>,`, a comma after every member) and
/// 6.x+ (no comma before `msg`, `, ` with a trailing blank, raw newlines inside strings).
public struct ESXiFault: Error, Sendable, Equatable, CustomStringConvertible {
    /// The fault type without its namespace: `NotFound`, `AlreadyExists`, `InvalidPowerState`, ...
    public var type: String
    /// The full type as printed: `vim.fault.NotFound`.
    public var qualifiedType: String
    /// The `msg` member, when present.
    public var message: String
    /// Top-level scalar members (`requestedState`, `existingState`, `reason`, ...).
    public var members: [String: String]
    /// What the command printed before the block, e.g. `Power on failed:`.
    public var context: String

    public init(type: String, qualifiedType: String? = nil, message: String, members: [String: String] = [:], context: String = "") {
        self.type = type
        self.qualifiedType = qualifiedType ?? "vim.fault.\(type)"
        self.message = message
        self.members = members
        self.context = context
    }

    public var description: String {
        let what = message.isEmpty ? "" : ": \(message)"
        return "ESXi fault \(qualifiedType)\(what)"
    }

    /// Finds the first fault block in a command's output, or nil when there is none.
    public static func find(in output: String) -> ESXiFault? {
        // Most outputs hold no fault: say so without splitting them into lines.
        guard output.includes("(vim.fault.") || output.includes("(vmodl.fault.") else { return nil }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let headerIndex = lines.firstIndex(where: { $0.contains("(vim.fault.") || $0.contains("(vmodl.fault.") }) else {
            return nil
        }
        let header = lines[headerIndex]
        guard let open = header.firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else { return nil }
        let qualified = String(header[header.index(after: open)..<close])
        let type = qualified.split(separator: ".").last.map(String.init) ?? qualified
        let context = header[..<open].trimmingBlanks()
        var members: [String: String] = [:]
        var depth = 0
        for line in lines[headerIndex...] {
            let trimmed = line.trimmingBlanks()
            // Only depth-1 members belong to the fault itself; nested LocalizableMessages are skipped.
            if depth == 1, let equals = trimmed.range(of: " = ") {
                let name = String(trimmed[..<equals.lowerBound])
                var value = String(trimmed[equals.upperBound...])
                if value.hasSuffix(",") { value.removeLast() }
                value = value.trimmingBlanks()
                if value.hasSuffix(",") { value.removeLast() }
                if value.count >= 2, value.first == "\"", value.last == "\"" {
                    value = String(value.dropFirst().dropLast())
                }
                if !name.contains(" ") { members[name] = value }
            }
            depth += line.filter { $0 == "{" || $0 == "[" }.count
            depth -= line.filter { $0 == "}" || $0 == "]" }.count
            if depth <= 0 && line != header { break }
        }
        return ESXiFault(type: type, qualifiedType: qualified, message: members["msg"] ?? "",
                         members: members, context: context)
    }
}
