import DrctlCore
import Foundation
import ESXi

/// The BusyBox tools operators pipe ESXi output through, and small host facts.
enum TextTools {
    static func run(_ name: String, _ arguments: [String], stdin: String, on host: String, fleet: Fleet) -> CommandOutput? {
        let lines = stdin.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast(stdin.hasSuffix("\n") ? 1 : 0)
        switch name {
        case "echo": return .text(arguments.joined(separator: " ") + "\n")
        case "true", ":": return CommandOutput()
        case "false": return CommandOutput(exit: 1)
        case "sleep": return CommandOutput()
        case "cat":
            guard let file = arguments.first else { return .text(stdin) }
            guard file == HostdInventoryFile.path else { return .failure("cat: can't open '\(file)': No such file or directory\n") }
            return .text(hostdInventory(on: host, fleet: fleet))
        case "hostname": return .text(host + "\n")
        case "uname":
            guard let index = fleet.hostIndex(host) else { return nil }
            let info = fleet.hosts[index]
            return .text(arguments.contains("-a") ? "VMkernel \(host) \(info.version) #1 SMP Release build-\(info.build) Jan  1 2025 00:00:00 x86_64 x86_64 x86_64 ESXi\n" : "VMkernel\n")
        case "vmware":
            guard let index = fleet.hostIndex(host) else { return nil }
            let info = fleet.hosts[index]
            return .text("VMware ESXi \(info.version) build-\(info.build)\n")
        case "grep":
            // `grep [-H] PATTERN FILE...` reads the files (a VM's .vmx); otherwise stdin.
            let words = arguments.filter { !$0.hasPrefix("-") }
            if words.count > 1 { return grepFiles(arguments, files: Array(words.dropFirst()), on: host, fleet: fleet) }
            return grep(arguments, Array(lines))
        case "wc": return .text("\(arguments.contains("-l") ? lines.count : stdin.count)\n")
        case "head", "tail":
            let count = arguments.firstIndex(of: "-n").flatMap { Int(arguments[safe: $0 + 1] ?? "") } ?? arguments.first.flatMap { Int($0.dropFirst()) } ?? 10
            let kept = name == "head" ? Array(lines.prefix(count)) : Array(lines.suffix(count))
            return .text(kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n")
        case "sort": return .text(lines.isEmpty ? "" : lines.sorted().joined(separator: "\n") + "\n")
        case "awk":
            // Only `{print $N}` and `{print $N, $M}`: what runbooks use to pick columns.
            let fields = (arguments.first ?? "").matches(of: /\$(\d+)/).compactMap { Int($0.output.1) }
            let picked = lines.map { line -> String in
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                return fields.map { $0 == 0 ? line : (words[safe: $0 - 1] ?? "") }.joined(separator: " ")
            }
            return .text(picked.isEmpty ? "" : picked.joined(separator: "\n") + "\n")
        default: return nil
        }
    }

    static func grepFiles(_ arguments: [String], files: [String], on host: String, fleet: Fleet) -> CommandOutput {
        guard let search = GrepSearch(arguments) else { return .failure("Usage: grep [-ivc] PATTERN\n", exit: 2) }
        var output = CommandOutput(exit: 1)
        let contents = Files.contents(of: files, on: host, fleet: fleet)
        let named = files.count > 1 || arguments.contains("-H")
        for file in files {
            guard let content = contents[file] ?? nil else {
                output.stderr += "grep: \(file): No such file or directory\n"
                continue
            }
            if search.count {
                let found = search.run(content.split(separator: "\n").map(String.init))
                guard found.exit == 0 else { continue }
                output.exit = 0
                output.stdout += named ? "\(file):\(found.stdout)" : found.stdout
                continue
            }
            for line in content.split(separator: "\n") where search.matches(String(line)) != search.invert {
                output.exit = 0
                output.stdout += named ? "\(file):\(line)\n" : "\(line)\n"
            }
        }
        if !output.stderr.isEmpty, output.exit == 1 { output.exit = 2 }
        return output
    }

    /// The pattern compiled once per grep, not once per line; `^literal` and plain literals (what
    /// runbooks send) skip the regular-expression engine altogether.
    static func matcher(_ pattern: String, ignoreCase: Bool) -> (String) -> Bool {
        let anchored = pattern.hasPrefix("^")
        let literal = anchored ? String(pattern.dropFirst()) : pattern
        if !literal.contains(where: { "\\.[]()*+?{}|$^".contains($0) }) {
            let wanted = ignoreCase ? literal.lowercased() : literal
            return { line in
                // `^literal`: only the line's start is lowercased.
                let text = !ignoreCase ? line : anchored ? String(line.prefix(wanted.count)).lowercased() : line.lowercased()
                return anchored ? text.hasPrefix(wanted) : text.includes(wanted)
            }
        }
        guard let regex = try? NSRegularExpression(pattern: pattern, options: ignoreCase ? [.caseInsensitive] : []) else { return { _ in false } }
        return { line in regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil }
    }

    static func grep(_ arguments: [String], _ lines: [String]) -> CommandOutput {
        guard let search = GrepSearch(arguments) else { return .failure("Usage: grep [-ivc] PATTERN\n", exit: 2) }
        return search.run(lines)
    }

    /// `grep [-ivc] PATTERN`, compiled once for every file it reads.
    struct GrepSearch {
        let matches: (String) -> Bool
        let invert: Bool
        let count: Bool

        init?(_ arguments: [String]) {
            let flags = arguments.filter { $0.hasPrefix("-") }.joined()
            guard let pattern = arguments.first(where: { !$0.hasPrefix("-") }) else { return nil }
            matches = TextTools.matcher(pattern, ignoreCase: flags.contains("i"))
            invert = flags.contains("v")
            count = flags.contains("c")
        }

        func run(_ lines: [String]) -> CommandOutput {
            let matched = lines.filter { matches($0) != invert }
            if count { return CommandOutput(stdout: "\(matched.count)\n", exit: matched.isEmpty ? 1 : 0) }
            return CommandOutput(stdout: matched.isEmpty ? "" : matched.joined(separator: "\n") + "\n", exit: matched.isEmpty ? 1 : 0)
        }
    }
}

/// The vCenter Server Appliance's shell: `service-control` and a few basics.
enum ApplianceShell {
    static let services = ["applmgmt", "lookupsvc", "lwsmd", "observability", "pschealth", "vlcm", "vmafdd", "vmcad", "vmdird",
                           "vmware-analytics", "vmware-certificateauthority", "vmware-content-library", "vmware-eam", "vmware-envoy",
                           "vmware-infraprofile", "vmware-perfcharts", "vmware-pod", "vmware-postgres-archiver", "vmware-rhttpproxy",
                           "vmware-sca", "vmware-sps", "vmware-stsd", "vmware-updatemgr", "vmware-vapi-endpoint", "vmware-vdtc",
                           "vmware-vmon", "vmware-vpostgres", "vmware-vpxd", "vmware-vpxd-svcs", "vmware-vsm", "vsphere-ui", "vstats", "vtsdb", "wcp"]

    /// Whether the appliance VM answers at this address (it runs, whatever its services do).
    static func isRunning(at address: String, in fleet: Fleet) -> Bool {
        guard let vcenter = fleet.vcenter, vcenter.address == address || vcenter.hostName == address else { return false }
        return fleet.vms.contains { $0.name == vcenter.vm && $0.power == .on }
    }

    /// Services set to start manually: always listed under Stopped:, even on a healthy appliance.
    static let manualServices = ["vmcam", "vmware-imagebuilder", "vmware-netdumper", "vmware-rbd-watchdog", "vmware-vcha"]

    static func run(_ name: String, _ arguments: [String], stdin: String, fleet: inout Fleet) -> CommandOutput {
        guard var vcenter = fleet.vcenter else { return .failure("bash: \(name): command not found\n", exit: 127) }
        if vcenter.isBooting {
            // Booting: sshd is up, vMon and the shell's tools are not ready yet.
            if let left = vcenter.bootingCommandsLeft, left > 0 {
                vcenter.bootingCommandsLeft = left - 1
                if !vcenter.isBooting { vcenter.servicesRunning = vcenter.servicesStartOnBoot != false }
            }
            fleet.vcenter = vcenter
            return .failure("\(name): vMon API is not available yet: the appliance is still booting\n", exit: 255)
        }
        switch name {
        case "service-control":
            if arguments.contains("--status") {
                let running = vcenter.servicesRunning ? services : ["lwsmd", "vmafdd", "vmware-vmon"]
                let stopped = manualServices + (vcenter.moreManualServices ?? []) + services.filter { !running.contains($0) }
                return .text("Stopped:\n " + stopped.joined(separator: " ") + "\nRunning:\n " + running.joined(separator: " ") + "\n")
            }
            if arguments.contains("--start") {
                var lines = ["Operation not cancellable. Please wait for it to finish..."]
                if !vcenter.servicesRunning {
                    for service in services.prefix(6) {
                        lines += ["Performing start operation on service \(service)...", "Successfully started service \(service)"]
                    }
                    lines.append("Performing start operation on profile: ALL...")
                    lines += services.dropFirst(6).map { "Successfully started service \($0)" }
                }
                vcenter.servicesRunning = true
                fleet.vcenter = vcenter
                fleet.changeLog.append("\(vcenter.hostName): service-control --start --all")
                return .text(lines.joined(separator: "\n") + "\n")
            }
            return .failure("usage: service-control [--start | --stop | --status] [--all | SERVICE...]\n", exit: 2)
        case "hostname": return .text(vcenter.hostName + "\n")
        default:
            return TextTools.run(name, arguments, stdin: stdin, on: vcenter.hostName, fleet: fleet) ?? .failure("bash: \(name): command not found\n", exit: 127)
        }
    }

}

extension TextTools {
    /// hostd's vmInventory.xml: every registration of the host, invalid ones too, by UUID path.
    static func hostdInventory(on host: String, fleet: Fleet) -> String {
        let escape = { (text: String) in
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var lines = ["<ConfigRoot>"]
        for (position, index) in fleet.registeredIndices(on: host).enumerated() {
            let vm = fleet.vms[index]
            let uuid = fleet.datastores.first { $0.name == vm.datastore }?.uuid ?? vm.datastore
            lines += ["  <ConfigEntry id=\"\(String(repeating: "0", count: max(0, 4 - String(position).count)) + String(position))\">",
                      "    <objID>\(vm.registration!.vmid)</objID>", "    <secDomain>\(23 + position)</secDomain>",
                      "    <vmxCfgPath>\(escape("/vmfs/volumes/\(uuid)/\(vm.path)"))</vmxCfgPath>", "  </ConfigEntry>"]
        }
        return (lines + ["</ConfigRoot>"]).joined(separator: "\n") + "\n"
    }
}
