import CLibSSH2
import DrctlCore
import Engine
import Foundation
import RunbookFormat

/// Timeouts of one SSH connection.
public struct SSHTimeouts: Sendable {
    public var connect: Duration
    /// Banner exchange, key exchange and authentication together.
    public var handshake: Duration
    /// After this long without a word from the server (a session idle, or every command on it
    /// silent), the session is probed.
    public var keepalive: Duration
    /// How long a probe (a channel opened and closed) may go unanswered before the session is
    /// declared dead. Also how soon a command timing out gets its session probed.
    public var probe: Duration

    public init(connect: Duration = .seconds(10), handshake: Duration = .seconds(20), keepalive: Duration = .seconds(30), probe: Duration = .seconds(5)) {
        self.connect = connect
        self.handshake = handshake
        self.keepalive = keepalive
        self.probe = probe
    }
}

/// What a connection learned: for `ssh-check` and the run's record.
public struct ConnectionInfo: Sendable, Equatable {
    public var fingerprint: String
    public var keyType: String
    /// `known_hosts`, `pinned`, or `accepted and recorded`.
    public var hostKeyStatus: String
    public var authMethod: String
    public var offeredMethods: String
}

/// Opens a TCP connection and an authenticated libssh2 session, in blocking mode with a timeout.
/// Runs on the session's own thread, never on Swift's cooperative pool.
enum SSHConnection {
    private static let initialise: Void = { _ = libssh2_init(0) }()

    struct Connected {
        var session: OpaquePointer
        var socket: Int32
        var info: ConnectionInfo
        /// Keeps the keyboard-interactive password alive for libssh2's callback.
        var secret: SecretBox
    }

    static func open(_ host: Inventory.Host, policy: HostKeyPolicy, timeouts: SSHTimeouts, credential: () throws -> Credential) throws -> Connected {
        _ = initialise
        let socket = try connectTCP(host, timeout: timeouts.connect)
        let secret = SecretBox()
        guard let session = libssh2_session_init_ex(nil, nil, nil, Unmanaged.passUnretained(secret).toOpaque()) else {
            close(socket)
            throw TransportError(.unreachable, host: host.name, detail: "libssh2 could not start a session")
        }
        do {
            libssh2_session_set_blocking(session, 1)
            libssh2_session_set_timeout(session, Int(timeouts.handshake.milliseconds))
            // Ask first for the key types known_hosts holds for this host (hashed entries too), as OpenSSH does.
            // Read once: it orders the handshake and then vouches for the key.
            let knownHosts = KnownHostsFile(path: policy.knownHostsPath)
            let recorded = knownHosts.keyTypes(for: KnownHostsFile.entryName(address: host.address, port: host.port))
            // The others follow, so a host whose key type changed shows a mismatch, not a failed handshake.
            let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
            let preferred = recorded.filter(supported.contains) + supported.filter { !recorded.contains($0) }
            _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, preferred.joined(separator: ","))
            let handshake = libssh2_session_handshake(session, socket)
            if handshake != 0 {
                if handshake == LIBSSH2_ERROR_TIMEOUT || handshake == LIBSSH2_ERROR_SOCKET_TIMEOUT {
                    throw TransportError(.timedOut, host: host.name,
                                         detail: "\(host.address):\(host.port) accepted the connection but completed no SSH handshake within \(DurationSeconds(timeouts.handshake))",
                                         hint: "the host may be hung; check its console")
                }
                let libssh2Says = lastError(session)
                // sshd answered: say what each side offered, never "check that sshd runs".
                if let offer = ServerAlgorithms.read(host, timeout: timeouts.connect) {
                    let (detail, hint) = offer.explanation(for: host)
                    throw TransportError(.noCommonAlgorithm, host: host.name, detail: "SSH handshake with \(host.address):\(host.port) failed (\(libssh2Says)): \(detail)",
                                         hint: hint)
                }
                throw TransportError(.unreachable, host: host.name, detail: "SSH handshake with \(host.address):\(host.port) failed: \(libssh2Says)",
                                     hint: handshakeHint(libssh2Says))
            }
            let key = try verifyHostKey(session, host: host, policy: policy, knownHosts: knownHosts)
            let (method, offered) = try authenticate(session, host: host, secret: secret, credential: credential)
            libssh2_session_set_blocking(session, 0)
            return Connected(session: session, socket: socket,
                             info: ConnectionInfo(fingerprint: key.presented.fingerprint, keyType: key.presented.typeName, hostKeyStatus: key.status,
                                                  authMethod: method, offeredMethods: offered),
                             secret: secret)
        } catch {
            libssh2_session_free(session)
            close(socket)
            throw error
        }
    }

    static func handshakeHint(_ message: String) -> String {
        if message.lowercased().contains("method") || message.lowercased().contains("key exchange") {
            return "no common algorithm: libssh2 1.10 needs an ECDSA or ed25519 host key and AES-CTR (RSA-only servers are not supported)"
        }
        return "check that sshd runs on the host"
    }

    static func connectTCP(_ host: Inventory.Host, timeout: Duration) throws -> Int32 {
        let first = try AddressLookup.resolve(host, timeout: timeout)
        defer { freeaddrinfo(first) }
        var lastProblem = TransportError(.unreachable, host: host.name, detail: "no address for \(host.address)")
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard descriptor >= 0 else { continue }
            let flags = fcntl(descriptor, F_GETFL)
            _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
            var result = connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen)
            if result != 0 && errno == EINPROGRESS {
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&poller, 1, Int32(timeout.milliseconds))
                if ready == 0 {
                    close(descriptor)
                    lastProblem = TransportError(.timedOut, host: host.name, detail: "no answer from \(host.address):\(host.port) within \(DurationSeconds(timeout))",
                                                 hint: "the host or the network path to it is down")
                    continue
                }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                result = error == 0 ? 0 : -1
                errno = error
            }
            if result == 0 {
                _ = fcntl(descriptor, F_SETFL, flags)
                var yes: Int32 = 1
                setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                return descriptor
            }
            let code = errno
            close(descriptor)
            switch code {
            case ECONNREFUSED:
                lastProblem = TransportError(.refused, host: host.name, detail: "\(host.address):\(host.port) refused the connection",
                                             hint: "is the host up and SSH enabled on it (ESXi: start the SSH service)?")
            case EHOSTUNREACH, ENETUNREACH:
                lastProblem = TransportError(.unreachable, host: host.name, detail: "no route to \(host.address)", hint: "check the host's power and network")
            default:
                lastProblem = TransportError(.unreachable, host: host.name, detail: "cannot connect to \(host.address):\(host.port): \(String(cString: strerror(code)))")
            }
        }
        throw lastProblem
    }

    static func verifyHostKey(_ session: OpaquePointer, host: Inventory.Host, policy: HostKeyPolicy,
                              knownHosts: KnownHostsFile) throws -> (presented: PresentedHostKey, status: String) {
        guard let key = PresentedHostKey.read(session) else {
            throw TransportError(.hostKeyUnknown, host: host.name, detail: "the server presented no host key")
        }
        if let pinned = host.hostKey {
            guard pinned == key.fingerprint else {
                throw TransportError(.hostKeyMismatch, host: host.name,
                                     detail: "WARNING: the \(key.typeName) host key is \(key.fingerprint), but the inventory pins \(pinned). Someone may be intercepting the connection, or the host was reinstalled",
                                     hint: "verify the fingerprint on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub) before changing host_key")
            }
            return (key, "pinned")
        }
        let name = KnownHostsFile.entryName(address: host.address, port: host.port)
        switch knownHosts.verdict(for: name, keyType: key.typeName, key: key.base64) {
        case .match:
            return (key, "known_hosts")
        case .revoked:
            throw TransportError(.hostKeyMismatch, host: host.name,
                                 detail: "the \(key.typeName) host key of \(name) (\(key.fingerprint)) is marked @revoked in \(policy.knownHostsPath)",
                                 hint: "the host must get a new key; do not connect with this one")
        case .mismatch(let knownTypes):
            // --accept-new-host-keys never overrides this: only a host not on file at all is new.
            let onFile = knownTypes.contains(key.typeName) ? "which does not match \(policy.knownHostsPath)"
                : "while \(policy.knownHostsPath) holds only \(knownTypes.joined(separator: ", ")) keys for it"
            throw TransportError(.hostKeyMismatch, host: host.name,
                                 detail: "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED: the \(key.typeName) host key of \(name) is \(key.fingerprint), \(onFile). Someone may be intercepting the connection, or the host was reinstalled",
                                 hint: "verify the fingerprint on the host's console, then remove the old line with: ssh-keygen -R '\(name)' -f \(policy.knownHostsPath)")
        case .unknown:
            guard policy.acceptNew else {
                throw TransportError(.hostKeyUnknown, host: host.name,
                                     detail: "\(name) is not in \(policy.knownHostsPath); its \(key.typeName) key is \(key.fingerprint)",
                                     hint: "check that fingerprint on the host's console, then run with --accept-new-host-keys, or pin it as host_key in the inventory")
            }
            do {
                try KnownHostsFile.record(name: name, keyType: key.typeName, key: key.base64, path: policy.knownHostsPath)
            } catch {
                throw TransportError(.hostKeyUnknown, host: host.name, detail: "\(error)")
            }
            return (key, "accepted and recorded in \(policy.knownHostsPath)")
        }
    }

    static func authenticate(_ session: OpaquePointer, host: Inventory.Host, secret: SecretBox,
                             credential: () throws -> Credential) throws -> (method: String, offered: String) {
        let user = host.user
        guard let list = libssh2_userauth_list(session, user, UInt32(user.utf8.count)) else {
            if libssh2_userauth_authenticated(session) != 0 { return ("none", "none") }
            throw TransportError(.authenticationFailed, host: host.name, detail: "the server lists no authentication method: \(lastError(session))")
        }
        let offered = String(cString: list)
        let methods = offered.split(separator: ",").map(String.init)
        let chosen = try credential()
        let result: Int32
        let method: String
        switch chosen {
        case .key(let path, let passphrase):
            guard methods.contains("publickey") else {
                throw TransportError(.authenticationFailed, host: host.name, detail: "the inventory gives a key, but the server offers only \(offered)",
                                     hint: "give a password reference instead")
            }
            method = "publickey"
            result = libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, path, passphrase)
        case .password(let password):
            if methods.contains("password") {
                method = "password"
                result = libssh2_userauth_password_ex(session, user, UInt32(user.utf8.count), password, UInt32(password.utf8.count), nil)
            } else if methods.contains("keyboard-interactive") {
                // ESXi offers no `password` method: its password prompt is keyboard-interactive.
                method = "keyboard-interactive"
                secret.password = password
                result = libssh2_userauth_keyboard_interactive_ex(session, user, UInt32(user.utf8.count), answerPasswordPrompts)
                secret.password = nil
                if result != 0, let prompt = secret.unansweredPrompt {
                    throw TransportError(.authenticationFailed, host: host.name,
                                         detail: "the server asked \"\(VisibleText.escape(prompt))\", which is not a password prompt; drctl answers only password prompts",
                                         hint: "a second factor (OTP, verification code) cannot be answered unattended: use a key_file for this host")
                }
            } else {
                throw TransportError(.authenticationFailed, host: host.name, detail: "the inventory gives a password, but the server offers only \(offered)",
                                     hint: "give a key_file instead")
            }
        }
        guard result == 0 else {
            let detail = result == LIBSSH2_ERROR_TIMEOUT ? "authentication timed out" : "\(method) authentication as \(user) was refused"
            throw TransportError(.authenticationFailed, host: host.name, detail: "\(detail) (the server offers: \(offered))",
                                 hint: chosen.hint)
        }
        return (method, offered)
    }

    static func lastError(_ session: OpaquePointer) -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        libssh2_session_last_error(session, &message, &length, 0)
        return message.map { String(cString: $0) } ?? "unknown error"
    }
}

extension Credential {
    var hint: String {
        switch self {
        case .key: return "check that the public key is in the host's authorized_keys (ESXi: /etc/ssh/keys-root/authorized_keys) and the passphrase is right"
        case .password: return "check the password; ESXi in lockdown mode refuses root"
        }
    }
}

/// Holds the password for libssh2's keyboard-interactive callback, which can only reach it
/// through the session's `abstract` pointer, and the first prompt it would not answer.
final class SecretBox: @unchecked Sendable {
    var password: String?
    var unansweredPrompt: String?
}

enum KeyboardInteractive {
    /// ESXi asks `Password: `; PAM may ask `root@esxi's password:` or `Passwort:`. Anything else (an
    /// OTP, a "Verification code") must not receive the password.
    static func isPasswordPrompt(_ prompt: String) -> Bool {
        let lowered = prompt.lowercased()
        return ["password", "passwort", "passphrase", "mot de passe", "contraseña"].contains { lowered.contains($0) }
    }
}

/// Answers password prompts with the password; any other prompt gets an empty answer and is kept
/// for the error message.
private let answerPasswordPrompts: @convention(c) (UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, Int32, Int32,
                                                  UnsafePointer<LIBSSH2_USERAUTH_KBDINT_PROMPT>?,
                                                  UnsafeMutablePointer<LIBSSH2_USERAUTH_KBDINT_RESPONSE>?,
                                                  UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Void = { _, _, _, _, count, prompts, responses, abstract in
    guard let abstract, let context = abstract.pointee, let responses, let prompts else { return }
    let box = Unmanaged<SecretBox>.fromOpaque(context).takeUnretainedValue()
    guard let password = box.password else { return }
    for index in 0..<Int(count) {
        let prompt = prompts[index].text.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(prompts[index].length)), as: UTF8.self) } ?? ""
        let answer = KeyboardInteractive.isPasswordPrompt(prompt) ? password : ""
        if answer.isEmpty, box.unansweredPrompt == nil { box.unansweredPrompt = prompt }
        // libssh2 frees each answer with free().
        responses[index].text = strdup(answer)
        responses[index].length = UInt32(answer.utf8.count)
    }
}

/// `20s`-style text for messages.
func DurationSeconds(_ duration: Duration) -> String {
    let seconds = Double(duration.milliseconds) / 1000
    return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
}
