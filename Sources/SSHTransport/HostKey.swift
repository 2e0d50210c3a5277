import CLibSSH2
import Engine
import Foundation

/// Host key checks against an OpenSSH known_hosts file (`KnownHostsFile`) or a pinned `SHA256:` fingerprint.
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

    /// The key as known_hosts writes it.
    var base64: String { Data(key).base64EncodedString() }

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
