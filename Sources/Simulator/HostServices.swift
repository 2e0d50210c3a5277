import Foundation

/// `/etc/init.d/hostd` and `/etc/init.d/vpxa`.
enum HostServices {
    static func run(_ script: String, _ arguments: [String], on host: String, fleet: inout Fleet) -> CommandOutput {
        guard let index = fleet.hostIndex(host) else { return .failure("-sh: \(script): not found\n", exit: 127) }
        let service = script.hasSuffix("hostd") ? "hostd" : "vpxa"
        var running: Bool {
            get { service == "hostd" ? fleet.hosts[index].hostdRunning : fleet.hosts[index].vpxaRunning }
        }
        func set(_ value: Bool) {
            if service == "hostd" { fleet.hosts[index].hostdRunning = value } else { fleet.hosts[index].vpxaRunning = value }
        }
        switch arguments.first ?? "" {
        case "status":
            return running ? .text("\(service) is running.\n") : CommandOutput(stdout: "\(service) is not running.\n", exit: 3)
        case "start":
            set(true)
            fleet.changeLog.append("\(host): \(service) start")
            return .text("\(service) started.\n")
        case "stop":
            set(false)
            fleet.changeLog.append("\(host): \(service) stop")
            return .text("\(service) stopped.\n")
        case "restart":
            let watchdog = running ? "watchdog-\(service): Terminating watchdog process with PID \(1000 + service.count * 97)\n\(service) stopped.\n" : ""
            set(true)
            fleet.changeLog.append("\(host): \(service) restart")
            return .text(watchdog + "\(service) started.\n")
        default:
            return .failure("Usage: \(script) {start|stop|status|restart}\n")
        }
    }
}

/// `vmkping`: reachable when the target is a VMkernel address of a host that is up (or the
/// appliance of a running vCenter) and the packet fits the path's MTU.
enum Network {
    static func vmkping(_ arguments: [String], on host: String, fleet: Fleet) -> CommandOutput {
        var count = 3
        var size = 56
        var dontFragment = false
        var interface: String?
        var target: String?
        var index = 0
        while index < arguments.count {
            switch arguments[index] {
            case "-c": count = Int(arguments[safe: index + 1] ?? "") ?? 3; index += 1
            case "-s": size = Int(arguments[safe: index + 1] ?? "") ?? 56; index += 1
            case "-I": interface = arguments[safe: index + 1]; index += 1
            case "-S", "-W", "-i": index += 1
            case "-d": dontFragment = true
            default: target = arguments[index]
            }
            index += 1
        }
        guard let target else { return .failure("vmkping: missing host operand\n", exit: 1) }
        guard let hostIndex = fleet.hostIndex(host) else { return .failure("-sh: vmkping: not found\n", exit: 127) }
        let source = fleet.hosts[hostIndex]
        if let interface, !source.vmks.contains(where: { $0.name == interface }) {
            return .failure("Unknown interface '\(interface)': Invalid argument\n", exit: 1)
        }
        let mtu = interface.flatMap { name in source.vmks.first { $0.name == name }?.mtu } ?? source.vmks.first?.mtu ?? 1500
        var lines = ["PING \(target) (\(target)): \(size) data bytes"]
        var received = 0
        let peer = fleet.hosts.first { $0.vmks.contains { $0.address == target } || $0.address == target }
        let reachable = peer?.state == .up || ApplianceShell.isRunning(at: target, in: fleet)
        for sequence in 0..<count {
            if dontFragment && size + 28 > mtu {
                lines.append("sendto() failed (Message too long)")
            } else if reachable {
                let time = 0.2 + SeededRandom.unit(seed: fleet.seed, key: "ping/\(host)/\(target)/\(sequence)") * 0.1
                lines.append("\(size + 8) bytes from \(target): icmp_seq=\(sequence) ttl=64 time=\(String(format: "%.3f", time)) ms")
                received += 1
            }
        }
        lines += ["", "--- \(target) ping statistics ---",
                  "\(count) packets transmitted, \(received) packets received, \(count == 0 ? 0 : (count - received) * 100 / count)% packet loss"]
        if received > 0 { lines.append("round-trip min/avg/max = 0.201/0.250/0.299 ms") }
        return CommandOutput(stdout: lines.joined(separator: "\n") + "\n\n", exit: received > 0 ? 0 : 1)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
