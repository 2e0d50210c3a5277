import DrctlCore
public enum PowerState: String, Sendable, Equatable, CaseIterable {
    case poweredOn = "Powered on"
    case poweredOff = "Powered off"
    case suspended = "Suspended"

    /// The vSphere API spelling (`poweredOn`), as used in fault members.
    public var apiName: String {
        switch self {
        case .poweredOn: return "poweredOn"
        case .poweredOff: return "poweredOff"
        case .suspended: return "suspended"
        }
    }
}

public enum PowerStateParser {
    /// Reads `vim-cmd vmsvc/power.getstate`: `Retrieved runtime info` then the state.
    public static func parse(_ output: String) throws -> PowerState {
        if let fault = ESXiFault.find(in: output) { throw fault }
        for line in output.split(separator: "\n").reversed() {
            let text = line.trimmingBlanks().lowercased()
            if let state = PowerState.allCases.first(where: { $0.rawValue.lowercased() == text }) { return state }
        }
        throw ESXiParseError.unexpectedOutput(expected: "a power state (Powered on, Powered off or Suspended)", output: output)
    }
}

public enum RegisterVMParser {
    /// Reads `vim-cmd solo/registervm`: the new vmid on success (ESXi 5.0 and later), or a fault.
    public static func parse(_ output: String) throws -> Int {
        if let fault = ESXiFault.find(in: output) { throw fault }
        for line in output.split(separator: "\n").reversed() {
            if let vmid = Int(line.trimmingBlanks()) { return vmid }
        }
        throw ESXiParseError.unexpectedOutput(expected: "the new vmid printed by solo/registervm", output: output)
    }
}

public enum PowerCommandParser {
    /// Power commands print `Powering on VM:` and, on failure, `Power on failed: (fault) {...}` or,
    /// on 6.0/6.5, a bare `Power off failed`. Throws the fault, or a generic failure.
    public static func check(_ output: String) throws {
        if let fault = ESXiFault.find(in: output) { throw fault }
        if let failed = output.split(separator: "\n").first(where: { $0.contains(" failed") }) {
            throw ESXiFault(type: "GenericVmConfigFault", message: failed.trimmingBlanks())
        }
    }
}

import Foundation
