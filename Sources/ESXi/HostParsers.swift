import DrctlCore
/// `esxcli system version get`. `Maintenance` exists only on some versions.
public struct ESXiVersion: Sendable, Equatable {
    public var product: String
    public var version: String
    public var build: String
    public var update: String
    public var patch: String

    /// `9.0.0 (build 24755229)`.
    public var summary: String {
        let number = build.replacingOccurrences(of: "Releasebuild-", with: "")
        return "\(version) (build \(number))"
    }
}

public enum VersionParser {
    public static func parse(_ output: String) throws -> ESXiVersion {
        let fields = EsxcliRecords.parseFields(output)
        guard let version = fields["Version"], let product = fields["Product"] else {
            throw ESXiParseError.unexpectedOutput(expected: "Product and Version fields from esxcli system version get", output: output)
        }
        return ESXiVersion(product: product, version: version, build: fields["Build"] ?? "",
                           update: fields["Update"] ?? "", patch: fields["Patch"] ?? "")
    }
}

public enum MaintenanceModeParser {
    /// `Enabled` or `Disabled`.
    public static func parse(_ output: String) throws -> Bool {
        switch output.trimmingWhitespace() {
        case "Enabled": return true
        case "Disabled": return false
        default: throw ESXiParseError.unexpectedOutput(expected: "Enabled or Disabled", output: output)
        }
    }
}

/// hostd and vpxa, the services a DR procedure restarts.
public enum ManagementService: String, Sendable, CaseIterable {
    case hostd
    case vpxa
}

public enum ServiceStatusParser {
    /// `hostd is running.` / `hostd is not running.` (with or without the period).
    public static func parse(_ output: String, service: ManagementService) throws -> Bool {
        for line in output.split(separator: "\n") {
            let text = line.trimmingCharacters(in: CharacterSet(charactersIn: " ."))
            if text == "\(service.rawValue) is running" { return true }
            if text == "\(service.rawValue) is not running" { return false }
        }
        throw ESXiParseError.unexpectedOutput(expected: "'\(service.rawValue) is running' or 'is not running'", output: output)
    }
}

/// The statistics of a `vmkping`.
public struct PingResult: Sendable, Equatable {
    public var transmitted: Int
    public var received: Int
    public var averageMilliseconds: Double?
    /// Per-packet errors such as `sendto() failed (Message too long)`.
    public var errors: [String]

    public var reachable: Bool { received > 0 }
}

public enum VmkpingParser {
    public static func parse(_ output: String) throws -> PingResult {
        let lines = output.split(separator: "\n").map(String.init)
        guard let stats = lines.first(where: { $0.contains("packets transmitted") }) else {
            throw ESXiParseError.unexpectedOutput(expected: "vmkping statistics (N packets transmitted, M packets received)", output: output)
        }
        let numbers = stats.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count >= 2 else {
            throw ESXiParseError.unexpectedOutput(expected: "packet counts", output: output)
        }
        var average: Double?
        if let rtt = lines.first(where: { $0.hasPrefix("round-trip") }), let equals = rtt.firstIndex(of: "=") {
            let parts = rtt[rtt.index(after: equals)...].trimmingBlanks().split(separator: "/")
            if parts.count >= 2 { average = Double(parts[1]) }
        }
        let errors = lines.filter { $0.contains("failed (") }
        return PingResult(transmitted: numbers[0], received: numbers[1], averageMilliseconds: average, errors: Array(Set(errors)).sorted())
    }
}

import Foundation

/// The capacity figures of `vim-cmd hostsvc/hostsummary`, for placing VMs on survivors.
public struct HostSummary: Sendable, Equatable {
    public var memoryMB: Int
    public var memoryUsedMB: Int
    public var cpuCores: Int
    public var inMaintenanceMode: Bool

    public var freeMemoryMB: Int { max(0, memoryMB - memoryUsedMB) }
}

public enum HostSummaryParser {
    /// Reads `memorySize` (bytes), `overallMemoryUsage` (MB), `numCpuCores` and
    /// `inMaintenanceMode` wherever they sit in the nested block.
    public static func parse(_ output: String) throws -> HostSummary {
        try memo.value(of: output, parseText)
    }

    private static let memo = ParseMemo<HostSummary>()

    private static func parseText(_ output: String) throws -> HostSummary {
        var fields: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let trimmed = line.trimmingBlanks()
            guard let equals = trimmed.range(of: " = ") else { continue }
            let name = String(trimmed[..<equals.lowerBound])
            let value = trimmed[equals.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: " ,\""))
            if fields[name] == nil { fields[name] = value }
        }
        guard let bytes = fields["memorySize"].flatMap({ Int64($0) }) else {
            if let fault = ESXiFault.find(in: output) { throw fault }
            throw ESXiParseError.unexpectedOutput(expected: "memorySize in vim-cmd hostsvc/hostsummary", output: output)
        }
        // Figures no host reports (negative, or past 64 TB) are refused rather than computed with.
        let used = fields["overallMemoryUsage"].flatMap { Int($0) } ?? 0
        guard (0...(1 << 46)).contains(bytes), (0...(1 << 26)).contains(used) else {
            throw ESXiParseError.unexpectedOutput(expected: "memorySize and overallMemoryUsage that a host can have", output: output)
        }
        return HostSummary(memoryMB: Int(bytes / 1_048_576), memoryUsedMB: used,
                           cpuCores: fields["numCpuCores"].flatMap { Int($0) } ?? 0, inMaintenanceMode: fields["inMaintenanceMode"] == "true")
    }
}
