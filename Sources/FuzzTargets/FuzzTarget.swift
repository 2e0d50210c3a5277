import DrctlCore
import ESXi
import Foundation
import RunbookFormat
import Simulator

/// What `make fuzz` feeds with generated inputs and `make test` replays from `Tests/Corpus/`:
/// every way text from outside enters drctl. Each target must end every input in a parse result
/// or a clear error; anything else (a trap, a hang, a blow-up, an error without `file:line:col`)
/// is a defect, reported by stopping the process.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case runbook, inventory, scenario, template
    // One per ESXi output parser.
    case getallvms, powerState = "power.getstate", registervm, powerCommand = "power.command", message
    case version, maintenance, serviceStatus = "service.status", vmkping, hostsummary
    case filesystemList = "filesystem.list", snapshotList = "snapshot.list", pathList = "path.list"
    case vmxFileList = "vmx.list", displayNames = "display.names"
    case serviceControl = "service-control", esxcliTable = "esxcli.table", esxcliRecords = "esxcli.records", fault

    /// The directory of `Tests/Corpus/` that seeds it.
    public var corpus: String {
        switch self {
        case .runbook, .inventory, .scenario, .template: return rawValue
        default: return "esxi-output"
        }
    }

    /// Where its seeds are, relative to the repository: its corpus, the inputs that once broke
    /// drctl, and for the file loaders the repo's own files.
    public var seedDirectories: [String] {
        var directories = ["Tests/Corpus/\(corpus)", "Tests/Corpus/findings"]
        if self == .runbook { directories.append("Runbooks") }
        if self == .scenario { directories.append("Simulator") }
        return directories
    }

    /// Runs one input. Returns what became of it, for replays; stops the process on a defect.
    @discardableResult
    public func run(_ data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .runbook: return load { _ = try RunbookLoader.load(text: text, file: Self.file) }
        case .inventory: return load { _ = try InventoryLoader.load(text: text, file: Self.file) }
        case .scenario: return load { _ = try ScenarioLoader.load(text: text, file: Self.file, seed: 1) }
        case .template: return TemplateFuzzing.run(text)
        default: return parse(text)
        }
    }

    static let file = "fuzz.yaml"

    /// A loader answers with a value or with diagnostics that each name `fuzz.yaml:LINE:COL`.
    private func load(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "loaded"
        } catch let invalid as InvalidInput {
            for diagnostic in invalid.diagnostics {
                let location = diagnostic.location
                guard location.file == Self.file, location.line >= 1, location.column >= 1, !diagnostic.message.isEmpty else {
                    fatalError("\(rawValue): an error without a place in the file: \(diagnostic)")
                }
            }
            return "refused: \(invalid.diagnostics.first!)"
        } catch {
            fatalError("\(rawValue): an error that is not a file:line:col diagnostic: \(type(of: error)): \(error)")
        }
    }

    private func parse(_ text: String) -> String {
        do {
            switch self {
            case .getallvms: return "\(try GetAllVMsParser.parse(text, stderr: text).vms.count) VMs"
            case .powerState: return "\(try PowerStateParser.parse(text))"
            case .registervm: return "vmid \(try RegisterVMParser.parse(text))"
            case .powerCommand:
                try PowerCommandParser.check(text)
                return "no failure"
            case .message: return QuestionParser.parse(text).map { "question, \($0.choices.count) choices" } ?? "no question"
            case .version: return try VersionParser.parse(text).summary
            case .maintenance: return "\(try MaintenanceModeParser.parse(text))"
            case .serviceStatus: return "\(try ServiceStatusParser.parse(text, service: .hostd))"
            case .vmkping: return "\(try VmkpingParser.parse(text).reachable)"
            case .hostsummary: return "\(try HostSummaryParser.parse(text))"
            case .filesystemList: return "\(try FilesystemListParser.parse(text).count) filesystems"
            case .snapshotList: return "\(try SnapshotListParser.parse(text).count) snapshots"
            case .pathList: return "\(try PathListParser.parse(text).count) paths"
            case .vmxFileList: return "\(VMXFileListParser.parse(text, datastore: "ds").count) files"
            case .displayNames: return "\(DisplayNameParser.parse(text).count) names"
            case .serviceControl: return "\(ServiceControlParser.parse(text))"
            case .esxcliTable: return "\(try EsxcliTable.parse(text).count) rows"
            case .esxcliRecords: return "\(try EsxcliRecords.parse(text).count) records"
            case .fault: return ESXiFault.find(in: text)?.type ?? "no fault"
            case .runbook, .inventory, .scenario, .template: fatalError("not a parser")
            }
        } catch {
            // A parser may refuse what it cannot read: with a message, never a trap.
            guard !"\(error)".isEmpty else { fatalError("\(rawValue): an error with no message") }
            return "refused: \(error)"
        }
    }
}
