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
        #expect(lines[0].hasPrefix("HOST") && lines[0].contains("CHECKED WITH") && lines[0].contains("RESULT"))
        let row = try #require(lines.first { $0.hasPrefix("esxi-01") })
        #expect(row.contains("yes") && row.contains("publickey ok") && row.contains("SHA256:") && row.contains("esxcli system version get")
                && row.contains("8.0.3 (build 24585383)"))
        #expect(accepted.stdout.contains("esxi-02: 127.0.0.1:\(closed) refused the connection"))
        let known = try await CLI.run(["ssh-check", "--inventory", inventory])
        #expect(known.stdout.contains("known_hosts SHA256:"))
    }

    @Test("a host is OK only when its check command ran and exited 0: the vCenter appliance runs service-control; a hung or non-ESXi host is a problem")
    func truth() async throws {
        let scenario = try CLI.temporaryFile("scenario.yaml", """
        scenario: check
        hosts:
          - { name: esxi-01, address: 10.0.0.11 }
        datastores:
          - { name: ds1 }
        vms:
          - { name: vcsa-01, datastore: ds1, host: esxi-01, power: on }
        vcenter: { vm: vcsa-01, host: vcsa, address: 10.0.0.5, services: running }
        """)
        let directory = URL(fileURLWithPath: scenario).deletingLastPathComponent()
        let clientKey = directory.appendingPathComponent("client").path
        _ = try shell("ssh-keygen -q -t ed25519 -N '' -f \(clientKey) && chmod 644 \(clientKey).pub")
        _ = try shell("\(CLI.binary) sim init --scenario \(scenario) --state \(directory.path)/fleet.json >/dev/null && chmod 777 \(directory.path) && chmod 666 \(directory.path)/fleet.json")
        _ = try shell("mkdir -p /run/sshd && (id -u drctldrill >/dev/null 2>&1 || (useradd -M -d /tmp -s /bin/sh drctldrill && usermod -p '*' drctldrill))")
        // One sshd per host, each answering with its own command.
        var ports: [String: String] = [:]
        var pidFiles: [String] = []
        defer { for pidFile in pidFiles { _ = try? shell("kill $(cat \(pidFile))") } }
        for (name, command) in [("vcsa", "\(CLI.binary) sim exec --state \(directory.path)/fleet.json --host vcsa"), ("hung", "sleep 300"), ("linux", "sh -c 'echo esxcli: not found >&2; exit 127'")] {
            let hostKey = directory.appendingPathComponent("host-\(name)").path
            _ = try shell("ssh-keygen -q -t ed25519 -N '' -f \(hostKey)")
            let port = try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").trimmingCharacters(in: .whitespacesAndNewlines)
            let config = directory.appendingPathComponent("sshd-\(name).conf").path
            try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(hostKey)
            AuthorizedKeysFile \(clientKey).pub
            PidFile \(directory.path)/sshd-\(name).pid
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            ForceCommand \(command)
            """.write(toFile: config, atomically: true, encoding: .utf8)
            // sshd -D would stay in the foreground; without it, sshd has bound its port when it returns.
            _ = try shell("/usr/sbin/sshd -f \(config)")
            pidFiles.append("\(directory.path)/sshd-\(name).pid")
            ports[name] = port
        }
        let inventory = try CLI.temporaryFile("site.yaml", """
        known_hosts: \(directory.path)/known_hosts
        hosts:
          - { name: vcsa-01, role: vcsa, address: 127.0.0.1, port: \(ports["vcsa"]!), user: drctldrill, auth: { key_file: \(clientKey) } }
          - { name: esxi-hung, address: 127.0.0.1, port: \(ports["hung"]!), user: drctldrill, auth: { key_file: \(clientKey) } }
          - { name: esxi-linux, address: 127.0.0.1, port: \(ports["linux"]!), user: drctldrill, auth: { key_file: \(clientKey) } }
        """)
        let result = try await CLI.run(["ssh-check", "--inventory", inventory, "--accept-new-host-keys", "--command-timeout", "2"])
        #expect(result.status == 1, "rows with problems make the exit code non-zero")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let vcsa = try #require(lines.first { $0.hasPrefix("vcsa-01") })
        #expect(vcsa.contains("publickey ok") && vcsa.contains("service-control --status --all") && vcsa.contains("services running"), "\(result.stdout)")
        #expect(!result.stdout.contains("vcsa-01: "), "the appliance row has no problem")
        let hung = try #require(lines.first { $0.hasPrefix("esxi-hung") })
        #expect(hung.contains("publickey ok") && hung.contains("command timed out"), "\(result.stdout)")
        let linux = try #require(lines.first { $0.hasPrefix("esxi-linux") })
        #expect(linux.contains("publickey ok") && linux.contains("exit 127"), "\(result.stdout)")
        #expect(result.stdout.contains("esxi-linux: the check command exited 127: esxcli: not found"))
    }

    @Test("whatif --discover reads the site from its hosts over SSH (reads only): the VMs they run now, not the inventory's; a silent host is taken as down")
    func whatifDiscovers() async throws {
        let scenario = try CLI.temporaryFile("scenario.yaml", """
        scenario: discover
        hosts:
          - { name: esxi-01, address: 10.0.0.11, memory_mb: 65536 }
          - { name: esxi-02, address: 10.0.0.12, memory_mb: 65536 }
          - { name: esxi-03, address: 10.0.0.13 }
        datastores:
          - { name: ds1 }
        vms:
          - { name: found-1, datastore: ds1, host: esxi-01, power: on, memory_mb: 4096 }
          - { name: found-2, datastore: ds1, host: esxi-01, power: on, memory_mb: 4096 }
          - { name: idle, datastore: ds1, host: esxi-01, power: off }
          - { name: other, datastore: ds1, host: esxi-02, power: on, memory_mb: 4096 }
        """)
        let directory = URL(fileURLWithPath: scenario).deletingLastPathComponent()
        let clientKey = directory.appendingPathComponent("client").path, hostKey = directory.appendingPathComponent("host").path
        _ = try shell("ssh-keygen -q -t ed25519 -N '' -f \(hostKey) && ssh-keygen -q -t ed25519 -N '' -f \(clientKey) && chmod 644 \(clientKey).pub")
        _ = try shell("\(CLI.binary) sim init --scenario \(scenario) --state \(directory.path)/fleet.json >/dev/null && chmod 777 \(directory.path) && chmod 666 \(directory.path)/fleet.json")
        _ = try shell("mkdir -p /run/sshd && (id -u drctldrill >/dev/null 2>&1 || (useradd -M -d /tmp -s /bin/sh drctldrill && usermod -p '*' drctldrill))")
        // One sshd per answering host; esxi-03's port is closed.
        var ports: [String: String] = [:]
        for host in ["esxi-01", "esxi-02", "esxi-03"] {
            ports[host] = try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").trimmingCharacters(in: .whitespacesAndNewlines)
            guard host != "esxi-03" else { continue }
            try """
            Port \(ports[host]!)
            ListenAddress 127.0.0.1
            HostKey \(hostKey)
            AuthorizedKeysFile \(clientKey).pub
            PidFile \(directory.path)/sshd-\(host).pid
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            ForceCommand \(CLI.binary) sim exec --state \(directory.path)/fleet.json --host \(host)
            """.write(toFile: directory.appendingPathComponent("sshd-\(host).conf").path, atomically: true, encoding: .utf8)
            _ = try shell("/usr/sbin/sshd -f \(directory.path)/sshd-\(host).conf")
        }
        _ = try shell("sleep 0.3")
        defer { _ = try? shell("kill $(cat \(directory.path)/sshd-*.pid)") }
        // The inventory knows no VM at all: what whatif reports comes from the hosts.
        let inventory = try CLI.temporaryFile("site.yaml", """
        known_hosts: \(directory.path)/known_hosts
        hosts:
        \(["esxi-01", "esxi-02", "esxi-03"].map { "  - { name: \($0), address: 127.0.0.1, port: \(ports[$0]!), user: drctldrill, auth: { key_file: \(clientKey) } }" }.joined(separator: "\n"))
        """)
        let result = try await CLI.run(["whatif", "--inventory", inventory, "--fail", "esxi-01", "--discover", "--accept-new-host-keys"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("esxi-03 did not answer"), "\(result.stderr)")
        #expect(result.stdout.contains("host esxi-01  host-failure  2 "), "the two VMs esxi-01 runs now: \(result.stdout)")
        #expect(result.stdout.contains("met ("), "both fit on esxi-02: \(result.stdout)")
        let state = try String(contentsOfFile: "\(directory.path)/fleet.json", encoding: .utf8)
        #expect(state.contains("\"changeLog\":[]"), "discovery changed nothing on the hosts")
    }

    @Test("an sshd that offers only rsa-sha2 host keys: TCP connected and sshd answered, what each side offers, and what to do; never 'check that sshd runs'")
    func rsaOnlyHost() async throws {
        let directory = URL(fileURLWithPath: try CLI.temporaryFile("README", "an RSA-only sshd")).deletingLastPathComponent()
        let hostKey = directory.appendingPathComponent("host_rsa").path, clientKey = directory.appendingPathComponent("client").path
        _ = try shell("ssh-keygen -q -t rsa -b 2048 -N '' -f \(hostKey) && ssh-keygen -q -t ed25519 -N '' -f \(clientKey) && mkdir -p /run/sshd")
        let port = try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").trimmingCharacters(in: .whitespacesAndNewlines)
        let config = directory.appendingPathComponent("sshd.conf").path
        try """
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(hostKey)
        HostKeyAlgorithms rsa-sha2-512,rsa-sha2-256
        AuthorizedKeysFile \(clientKey).pub
        PidFile \(directory.path)/sshd.pid
        StrictModes no
        UsePAM no
        PasswordAuthentication no
        """.write(toFile: config, atomically: true, encoding: .utf8)
        _ = try shell("/usr/sbin/sshd -f \(config)")
        defer { _ = try? shell("kill $(cat \(directory.path)/sshd.pid)") }
        // Only the host's RSA key on file, as ssh-keyscan records it.
        _ = try shell("ssh-keyscan -p \(port) -t rsa 127.0.0.1 > \(directory.path)/known_hosts 2>/dev/null")
        let inventory = directory.appendingPathComponent("site.yaml").path
        try """
        known_hosts: \(directory.path)/known_hosts
        hosts:
          - { name: esxi-rsa, address: 127.0.0.1, port: \(port), auth: { key_file: \(clientKey) } }
        """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let result = try await CLI.run(["ssh-check", "--inventory", inventory])
        #expect(result.status == 1)
        let row = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("esxi-rsa") })
        #expect(row.contains(" yes "), "TCP connected: \(row)")
        #expect(row.contains("NO ALGORITHM IN COMMON"))
        let said = result.stdout + result.stderr
        #expect(said.contains("sshd runs and answered, but offers host keys rsa-sha2-512, rsa-sha2-256"), "\(said)")
        #expect(said.contains("libssh2 1.10 verifies only ssh-ed25519, ecdsa-sha2-nistp256"))
        #expect(said.contains("ssh-keyscan -t ecdsa -p \(port) 127.0.0.1 >> known_hosts"))
        #expect(!said.contains("check that sshd runs"))
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
