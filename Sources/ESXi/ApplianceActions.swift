import DrctlCore

/// The vCenter Server Appliance's services, read over SSH to the appliance (its bash shell).
enum ApplianceActions {
    static let services = ESXiAction(
        name: "vcsa.services", summary: "Read which services of the vCenter appliance run and which are stopped.",
        mutates: false, outputs: ["running", "stopped", "ready"],
        plan: { _ in [ESXiCommand.applianceServiceStatus] },
        perform: { _, shell in
            // A booting appliance accepts SSH while vMon cannot answer yet (exit 255): not ready.
            let status = ServiceControlParser.parse(try await shell.checked(ESXiCommand.applianceServiceStatus).stdout)
            return ["running": .list(status.running.map(Value.string)), "stopped": .list(status.stopped.map(Value.string)), "ready": true]
        })
}

/// `service-control --status --all`: `Stopped:` and `Running:` (and `StartPending:`), each
/// followed by one line of service names. Services set to start manually are always under Stopped.
public enum ServiceControlParser {
    public static func parse(_ output: String) -> (running: [String], stopped: [String]) {
        var running: [String] = [], stopped: [String] = []
        var section = ""
        for line in output.split(separator: "\n") {
            let text = line.trimmingBlanks()
            if text.hasSuffix(":"), !text.contains(" ") {
                section = String(text.dropLast()).lowercased()
                continue
            }
            let names = text.split(separator: " ").map(String.init)
            if section == "running" { running += names } else if section == "stopped" || section == "startpending" { stopped += names }
        }
        return (running, stopped)
    }
}
