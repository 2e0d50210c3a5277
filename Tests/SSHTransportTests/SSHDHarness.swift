import Foundation
import Simulator

/// A real OpenSSH sshd on 127.0.0.1 for the tests: a free port, generated keys, its own config,
/// a throwaway login user whose shell is /bin/sh (root's bash start-up files are slow and noisy),
/// and, for password logins, a PAM service of its own. Needs root; tests skip otherwise.
final class SSHD: @unchecked Sendable {
    static let user = "drctlssh"
    static let password = "s3cret-Pa55-for-tests"
    static var isRoot: Bool { getuid() == 0 }

    let directory: URL
    let port: Int
    let pid: pid_t
    let clientKey: String
    let encryptedClientKey: String
    let hostKeyFingerprint: String
    /// The ports of `Options.extraPorts`.
    var extraPorts: [Int] = []

    struct Options {
        /// `publickey` only, `password` and `keyboard-interactive` through PAM, only
        /// keyboard-interactive (as ESXi), or keyboard-interactive asking for a one-time code
        /// ("Verification code: ", as a second factor would).
        enum Authentication { case keys, passwords, keyboardInteractiveOnly, oneTimeCode }
        var authentication: Authentication = .keys
        var forceCommand: String?
        var hostKeyType = "ed25519"
        /// More ports the same server listens on, so tests can stand for several hosts at once.
        var extraPorts = 0
    }

    /// Starts a server from a test: key generation and the wait for the port run on a thread of
    /// their own, never on Swift's cooperative pool, which the other tests share.
    static func launch(_ options: Options = Options()) async throws -> SSHD {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try start(options) }) }.start()
        }
    }

    static func start(_ options: Options = Options()) throws -> SSHD {
        try ensureUser()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-sshd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o755)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let hostKey = directory.appendingPathComponent("host_key").path
        try shell("ssh-keygen -q -t \(options.hostKeyType) -N '' -f \(hostKey)")
        let clientKey = directory.appendingPathComponent("client_ed25519").path
        try shell("ssh-keygen -q -t ed25519 -N '' -f \(clientKey)")
        let encrypted = directory.appendingPathComponent("client_ecdsa").path
        try shell("ssh-keygen -q -t ecdsa -b 256 -N 'key-passphrase' -f \(encrypted)")
        let authorized = directory.appendingPathComponent("authorized_keys").path
        try shell("cat \(clientKey).pub \(encrypted).pub > \(authorized) && chmod 644 \(authorized)")
        let fingerprint = try shell("ssh-keygen -lf \(hostKey).pub").split(separator: " ")[1]
        let port = LocalSSHD.freePort()
        var extraPorts: [Int] = []
        while extraPorts.count < options.extraPorts {
            let candidate = LocalSSHD.freePort()
            if candidate != port, !extraPorts.contains(candidate) { extraPorts.append(candidate) }
        }
        // Port lines must come before ListenAddress.
        let extraPortLines = extraPorts.map { "Port \($0)\n" }.joined()
        var config = """
        \(extraPortLines)Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(hostKey)
        AuthorizedKeysFile \(authorized)
        PidFile \(directory.path)/sshd.pid
        StrictModes no
        PermitRootLogin no
        MaxSessions 100
        MaxStartups 100:30:200
        LogLevel VERBOSE
        """
        var program = "/usr/sbin/sshd"
        switch options.authentication {
        case .keys:
            config += "\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        case .passwords, .keyboardInteractiveOnly:
            program = try pamProgram(directory)
            // keyboardInteractiveOnly offers what ESXi offers: publickey and keyboard-interactive.
            config += "\nUsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication \(options.authentication == .passwords ? "yes" : "no")\n"
        case .oneTimeCode:
            program = try oneTimeCodeProgram(directory)
            config += "\nUsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\n"
        }
        if let forceCommand = options.forceCommand { config += "ForceCommand \(forceCommand)\n" }
        let configPath = directory.appendingPathComponent("sshd_config").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        // posix_spawn, not Foundation's Process: sshd's forked children inherit the descriptor
        // Process watches and, exiting, make it wait forever on the still-running listener.
        let pid = try LocalSSHD.spawn(program, ["-D", "-f", configPath, "-E", directory.appendingPathComponent("sshd.log").path])
        let sshd = SSHD(directory: directory, port: port, pid: pid, clientKey: clientKey, encryptedClientKey: encrypted,
                        hostKeyFingerprint: String(fingerprint))
        sshd.extraPorts = extraPorts
        guard ([port] + extraPorts).allSatisfy({ LocalSSHD.waitUntilListening(port: $0) }) else { throw HarnessError("sshd did not start listening on \(port):\n\(sshd.log)") }
        return sshd
    }

    private init(directory: URL, port: Int, pid: pid_t, clientKey: String, encryptedClientKey: String, hostKeyFingerprint: String) {
        self.directory = directory
        self.port = port
        self.pid = pid
        self.clientKey = clientKey
        self.encryptedClientKey = encryptedClientKey
        self.hostKeyFingerprint = hostKeyFingerprint
    }

    func stop() {
        try? killSessions()
        LocalSSHD.stop(pid)
        try? FileManager.default.removeItem(at: directory)
    }

    var log: String { (try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? "" }

    /// A known_hosts file that vouches for this server's key.
    func knownHosts() throws -> String {
        let path = directory.appendingPathComponent("known_hosts").path
        let key = try String(contentsOfFile: directory.appendingPathComponent("host_key.pub").path, encoding: .utf8)
        let fields = key.split(separator: " ")
        try "[127.0.0.1]:\(port) \(fields[0]) \(fields[1])\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Kills the sshd processes serving connections (not the listener), dropping every session.
    func killSessions() throws {
        // The privileged monitor and the unprivileged child that holds the connection.
        let children = try SSHD.shell("pgrep -P \(pid) || true").split(separator: "\n").compactMap { pid_t($0) }
        let grandchildren = try children.flatMap { try SSHD.shell("pgrep -P \($0) || true").split(separator: "\n").compactMap { pid_t($0) } }
        for process in grandchildren + children { kill(process, SIGKILL) }
    }

    /// Freezes the processes serving the sessions open now (SIGSTOP), as a wedged host's sshd:
    /// the TCP connection stays up and nothing answers. New connections are served as before.
    func stopSessions() throws {
        let children = try SSHD.shell("pgrep -P \(pid) || true").split(separator: "\n").compactMap { pid_t($0) }
        let grandchildren = try children.flatMap { try SSHD.shell("pgrep -P \($0) || true").split(separator: "\n").compactMap { pid_t($0) } }
        for process in children + grandchildren { kill(process, SIGSTOP) }
    }

    /// A throwaway user with /bin/sh, locked password field `*` so key logins still work.
    private static func ensureUser() throws {
        if (try? shell("id -u \(user)")) != nil { return }
        try shell("useradd -M -d /tmp -s /bin/sh \(user) && usermod -p '*' \(user)")
    }

    /// sshd takes its PAM service from its program name: a symlink gives it one of our own that
    /// accepts only the test user's test password. The PAM file and its checker are shared by every
    /// server of every suite, so they live outside any one server's directory: a checker removed
    /// with the server that wrote it failed the logins of servers still running.
    private static func pamProgram(_ directory: URL) throws -> String {
        let checker = "/etc/drctl-test-check-pass.sh"
        try """
        #!/bin/sh
        read -r password
        [ "$PAM_USER" = "\(user)" ] && [ "$password" = "\(password)" ]
        """.write(toFile: checker, atomically: true, encoding: .utf8)
        chmod(checker, 0o755)
        return try pamService("sshd-drctl-test", auth: "auth     required pam_exec.so expose_authtok quiet \(checker)\nauth     optional pam_permit.so", directory)
    }

    /// sshd under the name `service` (a symlink), and /etc/pam.d/`service` with these auth lines.
    private static func pamService(_ service: String, auth: String, _ directory: URL) throws -> String {
        try """
        \(auth)
        account  required pam_permit.so
        session  required pam_permit.so
        password required pam_deny.so

        """.write(toFile: "/etc/pam.d/\(service)", atomically: true, encoding: .utf8)
        let link = directory.appendingPathComponent(service).path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/usr/sbin/sshd")
        return link
    }

    /// A PAM service whose only module asks "Verification code: " (and accepts 123456): a PAM
    /// module of a few lines, built here with the system's C compiler against libpam.so.0.
    private static func oneTimeCodeProgram(_ directory: URL) throws -> String {
        let source = directory.appendingPathComponent("pam_drctl_code.c").path
        // Outside the server's directory, like the password checker: the PAM file is shared.
        let module = "/etc/drctl-test-pam_code.so"
        let built = directory.appendingPathComponent("pam_drctl_code.so").path
        // The PAM ABI, declared here so no -dev package is needed: PAM_CONV is item 5,
        // PAM_PROMPT_ECHO_OFF style 1, PAM_SUCCESS 0, PAM_AUTH_ERR 7.
        try """
        #include <stdlib.h>
        #include <string.h>
        struct pam_message { int msg_style; const char *msg; };
        struct pam_response { char *resp; int resp_retcode; };
        struct pam_conv { int (*conv)(int, const struct pam_message **, struct pam_response **, void *); void *appdata_ptr; };
        typedef struct pam_handle pam_handle_t;
        extern int pam_get_item(const pam_handle_t *, int, const void **);
        int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
            const struct pam_conv *conv = 0;
            if (pam_get_item(pamh, 5, (const void **)&conv) != 0 || !conv) return 7;
            struct pam_message message = { 1, "Verification code: " };
            const struct pam_message *messages = &message;
            struct pam_response *response = 0;
            if (conv->conv(1, &messages, &response, conv->appdata_ptr) != 0) return 7;
            int good = response && response->resp && strcmp(response->resp, "123456") == 0;
            if (response) { free(response->resp); free(response); }
            return good ? 0 : 7;
        }
        int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) { return 0; }

        """.write(toFile: source, atomically: true, encoding: .utf8)
        try shell("cc -shared -fPIC -o \(built) \(source) -l:libpam.so.0 && cp \(built) \(module).new && chmod 755 \(module).new && mv -f \(module).new \(module)")
        return try pamService("sshd-drctl-code", auth: "auth     required \(module)", directory)
    }

    @discardableResult
    /// `shell` from a test, on a thread of its own.
    static func run(_ command: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try shell(command) }) }.start()
        }
    }

    @discardableResult
    static func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw HarnessError("`\(command)` failed: \(text)") }
        return text
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A TCP listener that accepts and never says a word: a hung host.
final class SilentListener: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32
    private let thread: Thread

    init() throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listening, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) } }
        listen(listening, 8)
        descriptor = listening
        port = Int(UInt16(bigEndian: address.sin_port))
        thread = Thread {
            // Accepted connections stay open and are never answered.
            while accept(listening, nil, nil) >= 0 {}
        }
        thread.start()
    }

    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}
