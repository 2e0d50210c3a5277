import Foundation
import RunbookFormat

/// The simulated fleet behind a real OpenSSH sshd on 127.0.0.1, one port per host, each port's
/// ForceCommand answering as its host through `drctl sim exec`. Drills with `--via-ssh` go
/// through the SSH transport end to end; nothing leaves the machine.
public final class FleetBehindSSHD: @unchecked Sendable {
    public let directory: URL
    public let state: StateFile
    /// The scenario's inventory, pointed at the local ports, with a key and known_hosts.
    public let inventory: Inventory
    private let sshdPID: pid_t

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts sshd for the fleet. `drctl` is the path of the drctl binary sshd runs.
    /// `forceCommand` replaces `drctl sim exec` for every host: benchmarks use it to make the
    /// hosts print what they need (a 100 MB output), never a real host's answer.
    public static func start(_ scenario: Scenario, drctl: String, forceCommand: String? = nil) throws -> FleetBehindSSHD {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-drill-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The login user's `sim exec` writes the state file and its lock here.
        chmod(directory.path, 0o777)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let state = StateFile(path: directory.appendingPathComponent("fleet.json").path)
        try state.create(scenario.fleet)
        chmod(state.path, 0o666)
        let hostKey = directory.appendingPathComponent("host_ed25519").path
        let clientKey = directory.appendingPathComponent("client_ed25519").path
        try run("ssh-keygen -q -t ed25519 -N '' -f \(hostKey) && ssh-keygen -q -t ed25519 -N '' -f \(clientKey)")
        try run("cp \(clientKey).pub \(directory.path)/authorized_keys && chmod 644 \(directory.path)/authorized_keys")
        let user = try loginUser()

        var ports: [String: Int] = [:]
        var listening: [String] = []
        for host in scenario.inventory.hosts {
            ports[host.name] = LocalSSHD.freePort()
            // A host that starts down has no sshd behind its port: connections are refused.
            if scenario.fleet.hosts.first(where: { $0.name == host.name })?.state != .down { listening.append(host.name) }
        }
        var config = """
        ListenAddress 127.0.0.1
        HostKey \(hostKey)
        AuthorizedKeysFile \(directory.path)/authorized_keys
        PidFile \(directory.path)/sshd.pid
        StrictModes no
        UsePAM no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        MaxSessions 100
        MaxStartups 100:30:200

        """
        config += listening.map { "Port \(ports[$0]!)\n" }.joined()
        for name in listening {
            config += "Match LocalPort \(ports[name]!)\n    ForceCommand \(forceCommand ?? "\(drctl) sim exec --state \(state.path) --host '\(name)'")\n"
        }
        let configPath = directory.appendingPathComponent("sshd_config").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let pid = try LocalSSHD.spawn("/usr/sbin/sshd", ["-D", "-f", configPath, "-E", directory.appendingPathComponent("sshd.log").path])

        let publicKey = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).split(separator: " ")
        let knownHosts = directory.appendingPathComponent("known_hosts").path
        try listening.map { "[127.0.0.1]:\(ports[$0]!) \(publicKey[0]) \(publicKey[1])\n" }.joined().write(toFile: knownHosts, atomically: true, encoding: .utf8)
        var inventory = scenario.inventory
        inventory.knownHosts = knownHosts
        inventory.hosts = inventory.hosts.map { host in
            var local = host
            local.address = "127.0.0.1"
            local.port = ports[host.name]!
            local.user = user
            local.auth = .keyFile(path: clientKey, passphraseEnvironment: nil)
            return local
        }
        let fleet = FleetBehindSSHD(directory: directory, state: state, inventory: inventory, sshdPID: pid)
        if let first = listening.first, !LocalSSHD.waitUntilListening(port: ports[first]!) {
            let log = (try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? ""
            fleet.stop()
            throw Problem(description: "sshd did not start listening on 127.0.0.1:\(ports[first]!): \(log)")
        }
        return fleet
    }

    private init(directory: URL, state: StateFile, inventory: Inventory, sshdPID: pid_t) {
        self.directory = directory
        self.state = state
        self.inventory = inventory
        self.sshdPID = sshdPID
    }

    public func stop() {
        LocalSSHD.stop(sshdPID)
        try? FileManager.default.removeItem(at: directory)
    }

    /// As root, a throwaway user whose shell is /bin/sh (root's start-up files are slow and
    /// noisy); otherwise the current user, which sshd can serve without privileges.
    static func loginUser() throws -> String {
        guard getuid() == 0 else { return String(cString: getpwuid(getuid())!.pointee.pw_name) }
        let user = "drctldrill"
        if getpwnam(user) == nil { try run("useradd -M -d /tmp -s /bin/sh \(user) && usermod -p '*' \(user)") }
        return user
    }

    @discardableResult
    static func run(_ command: String) throws -> String {
        let pipe = popen(command + " 2>&1", "r")
        guard let pipe else { throw Problem(description: "cannot run \(command)") }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil { output += buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } }
        guard pclose(pipe) == 0 else { throw Problem(description: "`\(command)` failed: \(output)") }
        return output
    }
}
