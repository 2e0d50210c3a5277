import Foundation
import Testing

let cliScenario = """
scenario: cli
seed: 3
hosts:
  - { name: esxi-01, address: 10.0.0.11 }
  - { name: esxi-02, address: 10.0.0.12 }
datastores:
  - { name: ds1 }
vms:
VMS
"""

@Suite("drctl sim", .serialized)
struct SimCommandTests {
    func makeState(vms: Int) async throws -> String {
        let list = (0..<vms).map { "  - { name: vm-\($0), datastore: ds1 }" }.joined(separator: "\n")
        let scenario = try CLI.temporaryFile("scenario.yaml", cliScenario.replacingOccurrences(of: "VMS", with: list))
        let state = URL(fileURLWithPath: scenario).deletingLastPathComponent().appendingPathComponent("fleet.json").path
        let result = try await CLI.run(["sim", "init", "--scenario", scenario, "--state", state])
        #expect(result.status == 0, "\(result.stderr)")
        return state
    }

    @Test("exec answers as the host, from arguments or SSH_ORIGINAL_COMMAND, with ESXi's exit codes")
    func exec() async throws {
        let state = try await makeState(vms: 1)
        let register = try await CLI.run(["sim", "exec", "--state", state, "--host", "esxi-01", "--", "vim-cmd", "solo/registervm", "/vmfs/volumes/ds1/vm-0/vm-0.vmx"])
        #expect(register.status == 0 && register.stdout == "1\n")
        let listing = try await CLI.run(["sim", "exec", "--state", state, "--host", "esxi-01", "--", "vim-cmd vmsvc/getallvms"])
        #expect(listing.stdout.contains("vm-0"))
        let unknown = try await CLI.run(["sim", "exec", "--state", state, "--host", "esxi-01", "--", "frob"])
        #expect(unknown.status == 127 && unknown.stderr == "-sh: frob: not found\n")
    }

    @Test("two processes changing one state file at the same time never lose an update")
    func concurrentExec() async throws {
        let count = 16
        let state = try await makeState(vms: count * 2)
        // Two writers at once, each registering its own half of the VMs on its own host.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    for index in stride(from: writer, to: count * 2, by: 2) {
                        let result = try await CLI.run(["sim", "exec", "--state", state, "--host", "esxi-0\(writer + 1)", "--",
                                                  "vim-cmd solo/registervm /vmfs/volumes/ds1/vm-\(index)/vm-\(index).vmx"])
                        guard result.status == 0 else { throw CLIError("register vm-\(index) failed: \(result.stdout)\(result.stderr)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        for host in ["esxi-01", "esxi-02"] {
            let listing = try await CLI.run(["sim", "exec", "--state", state, "--host", host, "--", "vim-cmd vmsvc/getallvms"])
            let rows = listing.stdout.split(separator: "\n").dropFirst()
            #expect(rows.count == count, "\(host) lost registrations:\n\(listing.stdout)")
            #expect(Set(rows.map { $0.split(separator: " ")[0] }).count == count, "vmids must be distinct")
        }
    }

    @Test("shell gives an ESXi prompt in a real terminal")
    func shellInPseudoTerminal() async throws {
        let scenario = try CLI.temporaryFile("scenario.yaml", cliScenario.replacingOccurrences(of: "VMS", with: "  - { name: web-01, datastore: ds1, host: esxi-02, power: on }"))
        let terminal = try PseudoTerminal.spawn(CLI.binary, ["sim", "shell", "--scenario", scenario, "--host", "esxi-02"])
        defer { terminal.close() }
        let greeting = try await terminal.read(until: "[root@esxi-02:~] ")
        #expect(greeting.contains("The time and date of this login have been sent to the system logs."))
        try terminal.write("vim-cmd vmsvc/getallvms\n")
        let listing = try await terminal.read(until: "[root@esxi-02:~] ")
        #expect(listing.contains("web-01") && listing.contains("[ds1] web-01/web-01.vmx"))
        try terminal.write("vim-cmd vmsvc/power.getstate 1\n")
        #expect(try await terminal.read(until: "[root@esxi-02:~] ").contains("Powered on"))
        try terminal.write("exit\n")
        #expect(await terminal.waitForExit() == 0)
    }
}

/// Runs a program on a pseudo-terminal, as a person at a terminal would. Reading and waiting
/// block, so they run on threads of their own: a blocked cooperative pool stalls every other test.
final class PseudoTerminal: @unchecked Sendable {
    let master: Int32
    let process: Process

    static func spawn(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> PseudoTerminal {
        var master: Int32 = -1, slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw CLIError("openpty failed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let handle = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process.standardInput = handle
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return PseudoTerminal(master: master, process: process)
    }

    private init(master: Int32, process: Process) {
        self.master = master
        self.process = process
    }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Foundation.write(master, bytes, bytes.count) == bytes.count else { throw CLIError("write to the terminal failed") }
    }

    /// Reads until `marker` shows. The 60-second bound only keeps a broken build from hanging the
    /// suite; a loaded CI machine can take seconds to start a process.
    func read(until marker: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try self.readBlocking(until: marker) }) }.start()
        }
    }

    /// What arrived after the marker of the last read: the next read starts with it, so output
    /// that came in the same chunk as a marker is never lost.
    private var unread = ""

    private func readBlocking(until marker: String) throws -> String {
        var text = unread
        unread = ""
        let deadline = Date().addingTimeInterval(60)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !text.contains(marker) {
            guard Date() < deadline else { throw CLIError("no '\(marker)' within 60s; the terminal showed:\n\(text)") }
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let count = Foundation.read(master, &buffer, buffer.count)
            if count <= 0 { throw CLIError("the terminal closed; it showed:\n\(text)") }
            text += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        let end = text.range(of: marker)!.upperBound
        unread = String(text[end...])
        return String(text[..<end])
    }

    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }.start()
        }
    }

    func close() {
        if process.isRunning { process.terminate() }
        Foundation.close(master)
    }
}
