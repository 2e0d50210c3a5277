import Crypto
import Foundation

/// An OpenSSH known_hosts file, read and written as OpenSSH does: plain, hashed (`|1|salt|hash`),
/// multi-name and `[address]:port` entries, wildcards and negations, `@revoked` keys.
/// Matching is by host, then key: a host known under any key type that offers a key not on
/// file is a mismatch, never "unknown" (a key of another type is no proof of identity).
struct KnownHostsFile {
    struct Entry {
        var patterns: [Substring]
        var keyType: String
        var key: String
        var revoked: Bool
    }

    enum Verdict: Equatable {
        case match
        case mismatch(knownTypes: [String])
        case revoked
        case unknown
    }

    var entries: [Entry] = []

    init(text: String) {
        // Split on bytes: files of thousands of lines are read on every connection.
        let isNewline: (UInt8) -> Bool = { $0 == 10 || $0 == 13 }
        let isBlank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
        for line in text.utf8.split(whereSeparator: isNewline) {
            // [marker] hosts keytype key [comment]
            var fields = line.split(maxSplits: 4, whereSeparator: isBlank).map { Substring($0) }
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var revoked = false
            if first.hasPrefix("@") {
                // `@cert-authority` lines vouch for certificates, which drctl does not use.
                guard first == "@revoked" else { continue }
                revoked = true
                fields.removeFirst()
            }
            guard fields.count >= 3 else { continue }
            entries.append(Entry(patterns: fields[0].split(separator: ","), keyType: String(fields[1]), key: String(fields[2]), revoked: revoked))
        }
    }

    init(path: String) {
        self.init(text: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    /// How known_hosts names a host: `address`, or `[address]:port` off port 22.
    static func entryName(address: String, port: Int) -> String {
        port == 22 ? address : "[\(address)]:\(port)"
    }

    func verdict(for name: String, keyType: String, key: String) -> Verdict {
        let forHost = entries.filter { Self.names(name, $0.patterns) }
        if forHost.contains(where: { $0.revoked && $0.key == key }) { return .revoked }
        let known = forHost.filter { !$0.revoked }
        if known.contains(where: { $0.keyType == keyType && $0.key == key }) { return .match }
        if known.isEmpty { return .unknown }
        return .mismatch(knownTypes: keyTypes(for: name))
    }

    /// The key types on file for a host, in file order: the handshake asks for these first.
    func keyTypes(for name: String) -> [String] {
        var types: [String] = []
        for entry in entries where !entry.revoked && Self.names(name, entry.patterns) && !types.contains(entry.keyType) {
            types.append(entry.keyType)
        }
        return types
    }

    /// A negated pattern that matches rules the line out, as in OpenSSH.
    static func names(_ name: String, _ patterns: [Substring]) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if matches(name, pattern.dropFirst()) { return false }
            } else if matches(name, pattern) {
                matched = true
            }
        }
        return matched
    }

    static func matches(_ name: String, _ pattern: Substring) -> Bool {
        if pattern.hasPrefix("|1|") { return hashedMatches(name, pattern) }
        if !pattern.contains(where: { $0 == "*" || $0 == "?" }) { return pattern == name }
        return wildcard(Array(name), Array(pattern))
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `HashKnownHosts yes` writes.
    static func hashedMatches(_ name: String, _ pattern: Substring) -> Bool {
        let parts = pattern.split(separator: "|")
        guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])), let hash = Data(base64Encoded: String(parts[2])) else { return false }
        return hmacSHA1(key: salt, message: name) == hash
    }

    static func hmacSHA1(key: Data, message: String) -> Data {
        Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key)))
    }

    static func wildcard(_ name: [Character], _ pattern: [Character]) -> Bool {
        // Iterative glob with one backtrack point: linear in practice, no recursion on hostile input.
        var n = 0, p = 0, star = -1, resume = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == name[n] {
                n += 1; p += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p; resume = n; p += 1
            } else if star >= 0 {
                p = star + 1; resume += 1; n = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// Adds `name keyType key` to the file, keeping every existing line byte for byte. Writers take
    /// an exclusive lock on `<path>.lock`, re-read the file under it, write a temporary file beside it
    /// and rename it over: parallel sessions never lose each other's lines, and a reader sees the
    /// old file or the new one, never half of one.
    static func record(name: String, keyType: String, key: String, path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory.isEmpty ? "." : directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw KnownHostsWriteError(path: path, reason: "cannot open \(path).lock: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw KnownHostsWriteError(path: path, reason: "cannot lock \(path).lock: \(String(cString: strerror(errno)))") }
        }
        defer { flock(lock, LOCK_UN) }

        let existing = FileManager.default.contents(atPath: path) ?? Data()
        // A session to the same host may have recorded this very line while we waited for the lock.
        let line = Data("\(name) \(keyType) \(key)\n".utf8)
        if existing.starts(with: line) || existing.range(of: Data("\n".utf8) + line) != nil { return }
        var updated = existing
        if let last = updated.last, last != UInt8(ascii: "\n") { updated.append(UInt8(ascii: "\n")) }
        updated.append(line)

        let mode = ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.uint16Value ?? 0o600
        let temporary = "\(path).drctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard descriptor >= 0 else { throw KnownHostsWriteError(path: path, reason: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let written = updated.withUnsafeBytes { buffer in writeAll(descriptor, buffer) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw KnownHostsWriteError(path: path, reason: reason)
        }
    }

    private static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let count = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }
}

struct KnownHostsWriteError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot record the host key in \(path): \(reason)" }
}
