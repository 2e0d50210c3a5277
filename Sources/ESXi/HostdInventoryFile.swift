import DrctlCore
import Foundation

/// hostd's own list of registrations, `/etc/vmware/hostd/vmInventory.xml`: every vmid with its
/// `.vmx` path, the invalid ones included (getallvms only says "Skipping invalid VM '12'").
/// It is how a recovery shows which datastore an invalid registration belongs to before it
/// touches it:
///
///     <ConfigRoot>
///       <ConfigEntry id="0000">
///         <objID>12</objID>
///         <secDomain>23</secDomain>
///         <vmxCfgPath>/vmfs/volumes/5f8b4c97-234dcc30-d982-54ea7418ec3f/db-01/db-01.vmx</vmxCfgPath>
///       </ConfigEntry>
///     </ConfigRoot>
public enum HostdInventoryFile {
    public static let path = "/etc/vmware/hostd/vmInventory.xml"
    public static let command = "cat \(path)"

    public struct Entry: Sendable, Equatable {
        public var vmid: Int
        public var file: String
    }

    /// The entries, in file order. Text that is not hostd's inventory is refused.
    public static func parse(_ output: String) throws -> [Entry] {
        guard output.contains("<ConfigRoot") else {
            throw ESXiParseError.unexpectedOutput(expected: "hostd's \(path) (<ConfigRoot> with <ConfigEntry> elements)", output: output)
        }
        var entries: [Entry] = []
        var rest = output[...]
        while let open = rest.range(of: "<ConfigEntry"), let close = rest[open.upperBound...].range(of: "</ConfigEntry>") {
            let body = rest[open.upperBound..<close.lowerBound]
            if let vmid = element("objID", in: body).flatMap({ Int($0) }), let file = element("vmxCfgPath", in: body), !file.isEmpty {
                entries.append(Entry(vmid: vmid, file: unescaped(file)))
            }
            rest = rest[close.upperBound...]
        }
        return entries
    }

    static func element(_ name: String, in body: Substring) -> String? {
        guard let start = body.range(of: "<\(name)>"), let end = body[start.upperBound...].range(of: "</\(name)>") else { return nil }
        return String(body[start.upperBound..<end.lowerBound]).trimmingBlanks()
    }

    /// XML's five entities (a path may hold `&`, `<`, quotes).
    static func unescaped(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static let action = ESXiAction(
        name: "vm.inventory_file", summary: "Read hostd's list of registrations, invalid ones included, with each one's .vmx path.",
        mutates: false, outputs: ["registrations"],
        plan: { _ in [command] },
        perform: { _, shell in
            let host = shell.hostName
            let entries = try parse(try await shell.checked(command).stdout)
            return ["registrations": .list(entries.map { ["vmid": .int($0.vmid), "file": .string($0.file), "host": .string(host)] })]
        })
}
