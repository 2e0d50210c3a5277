import DrctlCore
import Foundation

/// `vim-cmd vmsvc/get.guest N`: what VMware Tools in the guest report.
///
///     Guest information:
///
///     (vim.vm.GuestInfo) {
///        toolsStatus = "toolsOk",
///        toolsRunningStatus = "guestToolsRunning",
///        ...
///        guestState = "running"
///     }
public struct GuestInfo: Sendable, Equatable {
    /// `toolsOk`, `toolsNotRunning`, `toolsNotInstalled`, `toolsOld`.
    public var toolsStatus: String
    /// `guestToolsRunning`, `guestToolsNotRunning`, `guestToolsExecutingScripts`.
    public var toolsRunningStatus: String
    /// `running`, `notRunning`, `shuttingDown`...
    public var guestState: String

    public var toolsRunning: Bool { toolsRunningStatus == "guestToolsRunning" }
}

public enum GuestInfoParser {
    public static func parse(_ output: String) throws -> GuestInfo {
        try memo.value(of: output, parseText)
    }

    private static let memo = ParseMemo<GuestInfo>()

    private static func parseText(_ output: String) throws -> GuestInfo {
        var fields: [String: String] = [:]
        for line in output.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingBlanks()
            var value = parts[1].trimmingBlanks()
            if value.hasSuffix(",") { value.removeLast() }
            value = value.trimmingBlanks()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            if fields[key] == nil { fields[key] = value }
        }
        guard output.contains("vim.vm.GuestInfo"), let running = fields["toolsRunningStatus"] else {
            throw ESXiParseError.unexpectedOutput(expected: "a (vim.vm.GuestInfo) object with toolsRunningStatus (vim-cmd vmsvc/get.guest)", output: output)
        }
        return GuestInfo(toolsStatus: fields["toolsStatus"] ?? "<unset>", toolsRunningStatus: running, guestState: fields["guestState"] ?? "<unset>")
    }
}
