import CLibSSH2
import Engine
import Foundation

/// Host key checks against an OpenSSH known_hosts file or a pinned `SHA256:` fingerprint.
struct HostKeyPolicy: Sendable {
    /// The known_hosts file (`~/.ssh/known_hosts` unless the inventory names one).
    var knownHostsPath: String
    /// Accept and record keys of hosts not in known_hosts (`--accept-new-host-keys`).
    var acceptNew: Bool
}

/// The host key a server presented.
struct PresentedHostKey {
    var key: [UInt8]
    var libssh2Type: Int32
    /// `SHA256:base64` as `ssh-keygen -lf` prints it.
    var fingerprint: String

    var typeName: String {
        switch libssh2Type {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa"
        case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521"
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519"
        default: return "unknown"
        }
    }

    /// The known_hosts key bits for this key type.
    var knownHostKeyBits: Int32 {
        switch libssh2Type {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519
        default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN
        }
    }

    static func read(_ session: OpaquePointer) -> PresentedHostKey? {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type),
              let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return nil }
        let key = Array(UnsafeRawBufferPointer(start: raw, count: length).bindMemory(to: UInt8.self))
        let digest = Data(bytes: hash, count: 32).base64EncodedString().replacingOccurrences(of: "=", with: "")
        return PresentedHostKey(key: key, libssh2Type: type, fingerprint: "SHA256:" + digest)
    }
}

enum KnownHosts {
    /// How known_hosts names a host: `address`, or `[address]:port` off port 22.
    static func entryName(address: String, port: Int) -> String {
        port == 22 ? address : "[\(address)]:\(port)"
    }

    /// Key types recorded for a host in plain (unhashed) lines, in the libssh2 method names, so
    /// the handshake asks for a key type the file can vouch for.
    static func recordedKeyTypes(path: String, address: String, port: Int) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let name = entryName(address: address, port: port)
        var types: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, fields[0].split(separator: ",").contains(where: { String($0) == name }) else { continue }
            let type = String(fields[1])
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    enum Verdict {
        case match
        case mismatch
        case unknown
    }

    static func check(_ session: OpaquePointer, key: PresentedHostKey, path: String, address: String, port: Int) -> Verdict {
        guard let hosts = libssh2_knownhost_init(session) else { return .unknown }
        defer { libssh2_knownhost_free(hosts) }
        if FileManager.default.fileExists(atPath: path) {
            _ = libssh2_knownhost_readfile(hosts, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
        }
        let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key.knownHostKeyBits
        let result = key.key.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                libssh2_knownhost_checkp(hosts, address, Int32(port), characters.baseAddress, key.key.count, typemask, nil)
            }
        }
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch
        default: return .unknown
        }
    }

    /// Records a newly accepted key, like OpenSSH's StrictHostKeyChecking=accept-new.
    static func add(_ session: OpaquePointer, key: PresentedHostKey, path: String, address: String, port: Int) throws {
        guard let hosts = libssh2_knownhost_init(session) else { throw CocoaError(.fileWriteUnknown) }
        defer { libssh2_knownhost_free(hosts) }
        if FileManager.default.fileExists(atPath: path) {
            _ = libssh2_knownhost_readfile(hosts, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
        } else {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key.knownHostKeyBits
        let added = key.key.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                libssh2_knownhost_addc(hosts, entryName(address: address, port: port), nil, characters.baseAddress, key.key.count,
                                       nil, 0, typemask, nil)
            }
        }
        guard added == 0, libssh2_knownhost_writefile(hosts, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
