import Foundation
import Testing

@Suite("drctl ssh-check", .enabled(if: getuid() == 0, "needs root to start sshd and add its login user"))
struct SSHCheckTests {
    @Test("one row per host: reachable, auth, host key, ESXi version, round trip; unknown keys and down hosts are flagged")
    func table() async throws {
        // esxi-01: the simulator behind sshd; esxi-02: a closed port.
        let state = try CLI.temporaryFile("scenario.yaml", """
        scenario: check
        hosts:
          - { name: esxi-01, address: 10.0.0.11, version: 8.0.3, build: "24585383" }
          - { name: esxi-02, address: 10.0.0.12, state: down }
        datastores:
          - { name: ds1 }
        """)
        let directory = URL(fileURLWithPath: state).deletingLastPathComponent()
        let hostKey = directory.appendingPathComponent("host").path, clientKey = directory.appendingPathComponent("client").path
        _ = try shell("ssh-keygen -q -t ed25519 -N '' -f \(hostKey) && ssh-keygen -q -t ed25519 -N '' -f \(clientKey)")
        let port = try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").trimmingCharacters(in: .whitespacesAndNewlines)
        let closed = try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try shell("drctl_state=\(directory.path)/fleet.json; \(CLI.binary) sim init --scenario \(state) --state $drctl_state >/dev/null && chmod 777 \(directory.path) && chmod 666 $drctl_state")
        try """
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(hostKey)
        AuthorizedKeysFile \(clientKey).pub
        PidFile \(directory.path)/sshd.pid
        StrictModes no
        UsePAM no
        PasswordAuthentication no
        ForceCommand \(CLI.binary) sim exec --state \(directory.path)/fleet.json --host esxi-01
        """.write(toFile: directory.appendingPathComponent("sshd_config").path, atomically: true, encoding: .utf8)
        _ = try shell("mkdir -p /run/sshd && (id -u drctldrill >/dev/null 2>&1 || (useradd -M -d /tmp -s /bin/sh drctldrill && usermod -p '*' drctldrill)) && chmod 644 \(clientKey).pub && /usr/sbin/sshd -f \(directory.path)/sshd_config && sleep 0.3")
        defer { _ = try? shell("kill $(cat \(directory.path)/sshd.pid)") }
        let inventory = try CLI.temporaryFile("site.yaml", """
        known_hosts: \(directory.path)/known_hosts
        hosts:
          - { name: esxi-01, address: 127.0.0.1, port: \(port), user: drctldrill, auth: { key_file: \(clientKey) } }
          - { name: esxi-02, address: 127.0.0.1, port: \(closed), user: drctldrill, auth: { key_file: \(clientKey) } }
        """)
        let unknown = try await CLI.run(["ssh-check", "--inventory", inventory])
        #expect(unknown.status == 1)
        #expect(unknown.stdout.contains("HOST KEY UNKNOWN"), "\(unknown.stdout)")
        let accepted = try await CLI.run(["ssh-check", "--inventory", inventory, "--accept-new-host-keys"])
        #expect(accepted.status == 1, "esxi-02 is down")
        let lines = accepted.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("HOST") && lines[0].contains("ESXI VERSION"))
        let row = try #require(lines.first { $0.hasPrefix("esxi-01") })
        #expect(row.contains("yes") && row.contains("publickey ok") && row.contains("SHA256:") && row.contains("8.0.3 (build 24585383)"))
        #expect(accepted.stdout.contains("esxi-02: 127.0.0.1:\(closed) refused the connection"))
        let known = try await CLI.run(["ssh-check", "--inventory", inventory])
        #expect(known.stdout.contains("known_hosts SHA256:"))
    }

    func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIError("`\(command)` failed") }
        return String(decoding: data, as: UTF8.self)
    }
}
