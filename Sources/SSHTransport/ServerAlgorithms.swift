import CLibSSH2
import Engine
import Foundation
import RunbookFormat

/// What an SSH server offers, read from its own key-exchange message (`SSH_MSG_KEXINIT`, sent in
/// the clear before any key is agreed): after a handshake that found no algorithm in common, the
/// operator is told what each side offered instead of "Unable to exchange encryption keys".
struct ServerAlgorithms: Equatable {
    var keyExchange: [String]
    var hostKeys: [String]
    var ciphers: [String]
    var macs: [String]

    /// libssh2 1.10's host key algorithms: RSA only as `ssh-rsa` (SHA-1), which OpenSSH 8.8 and
    /// later, and ESXi 8 in FIPS mode, no longer accept.
    static let libssh2HostKeys = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]

    /// Connects again, sends a version line and reads the server's KEXINIT; nil when it cannot.
    static func read(_ host: Inventory.Host, timeout: Duration) -> ServerAlgorithms? {
        guard let socket = try? SSHConnection.connectTCP(host, timeout: timeout) else { return nil }
        defer { close(socket) }
        let reader = BlockingReader(socket: socket, timeout: timeout)
        // The server's version line (lines before it may be a banner).
        while let line = reader.line() {
            if line.hasPrefix("SSH-") { break }
        }
        let version = Array("SSH-2.0-drctl_offer_check\r\n".utf8)
        guard write(socket, version, version.count) == version.count else { return nil }
        // One binary packet: length, padding length, payload (message 20), padding.
        guard let lengthBytes = reader.bytes(4) else { return nil }
        let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        guard (6...262_144).contains(length), let packet = reader.bytes(length) else { return nil }
        let padding = Int(packet[0])
        guard packet.count > 1 + 17 + padding, packet[1] == 20 else { return nil }
        return parse(Array(packet[18..<(packet.count - padding)]))
    }

    /// The name-lists after the cookie: kex, host key, cipher and MAC each way, ...
    static func parse(_ lists: [UInt8]) -> ServerAlgorithms? {
        var offset = 0
        var names: [[String]] = []
        while names.count < 6, offset + 4 <= lists.count {
            let length = lists[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard offset + length <= lists.count else { return nil }
            let text = String(decoding: lists[offset..<(offset + length)], as: UTF8.self)
            names.append(text.split(separator: ",").map(String.init))
            offset += length
        }
        guard names.count == 6 else { return nil }
        return ServerAlgorithms(keyExchange: names[0], hostKeys: names[1], ciphers: names[2], macs: names[4])
    }

    /// Why the handshake failed, what each side offered, what to do.
    func explanation(for host: Inventory.Host) -> (detail: String, hint: String) {
        let common = hostKeys.filter(Self.libssh2HostKeys.contains)
        if common.isEmpty {
            let rsaOnly = hostKeys.allSatisfy { $0.hasPrefix("rsa-sha2-") }
            return ("sshd runs and answered, but offers host keys \(hostKeys.joined(separator: ", ")); libssh2 1.10 verifies only "
                    + Self.libssh2HostKeys.joined(separator: ", ") + (rsaOnly ? " (RSA with SHA-1 only, not rsa-sha2-256/512)" : ""),
                    "give the host an ECDSA or Ed25519 host key among its HostKeyAlgorithms and record that one: "
                    + "ssh-keyscan -t ecdsa -p \(host.port) \(host.address) >> known_hosts (check its fingerprint on the host's console)")
        }
        return ("sshd runs and answered, but no key exchange, cipher or MAC is in common: it offers key exchange "
                + keyExchange.joined(separator: ", ") + "; ciphers " + ciphers.joined(separator: ", ") + "; MACs " + macs.joined(separator: ", "),
                "libssh2 1.10 needs AES-CTR ciphers and hmac-sha2 MACs: enable them in the host's sshd configuration")
    }
}

/// Reads from a socket with a deadline per read.
private final class BlockingReader {
    let socket: Int32
    let timeout: Duration
    private var buffer: [UInt8] = []

    init(socket: Int32, timeout: Duration) {
        self.socket = socket
        self.timeout = timeout
    }

    private func fill() -> Bool {
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout.milliseconds)) > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = Foundation.read(socket, &chunk, chunk.count)
        guard count > 0 else { return false }
        buffer += chunk[0..<count]
        return true
    }

    func line() -> String? {
        while !buffer.contains(0x0A) { guard buffer.count < 8192, fill() else { return nil } }
        let end = buffer.firstIndex(of: 0x0A)!
        let text = String(decoding: buffer[..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        buffer.removeFirst(end + 1)
        return text
    }

    func bytes(_ count: Int) -> [UInt8]? {
        while buffer.count < count { guard fill() else { return nil } }
        let taken = Array(buffer[..<count])
        buffer.removeFirst(count)
        return taken
    }
}
