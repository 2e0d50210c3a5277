import Engine
import Foundation
import RunbookFormat
@testable import SSHTransport
import Testing

/// known_hosts read and written as OpenSSH does, on real files.
@Suite("known_hosts files")
struct KnownHostsFileTests {
    let ed25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIFakeEd25519KeyForTests0000000000000000000"
    let ecdsa = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYFakeEcdsaKeyForTests"

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("drctl-kh-\(UUID().uuidString)").appendingPathComponent(name).path
    }

    @Test("a host is matched by plain, multi-name, [address]:port, wildcard and hashed entries; negations rule a line out")
    func matching() throws {
        let salt = Data((0..<20).map { UInt8($0) })
        let hashed = "|1|\(salt.base64EncodedString())|\(hmacSHA1(salt, "[10.0.0.12]:2222").base64EncodedString())"
        let file = KnownHostsFile(text: """
        # comment
        esxi-01,10.0.0.11 ssh-ed25519 \(ed25519)
        \(hashed) ecdsa-sha2-nistp256 \(ecdsa)
        10.0.1.* ssh-ed25519 \(ed25519)
        10.0.2.*,!10.0.2.9 ssh-ed25519 \(ed25519)
        @cert-authority *.example.com ssh-ed25519 \(ecdsa)
        """)
        #expect(file.verdict(for: "10.0.0.11", keyType: "ssh-ed25519", key: ed25519) == .match)
        #expect(file.verdict(for: "esxi-01", keyType: "ssh-ed25519", key: ed25519) == .match)
        #expect(file.verdict(for: "[10.0.0.12]:2222", keyType: "ecdsa-sha2-nistp256", key: ecdsa) == .match)
        #expect(file.verdict(for: "10.0.0.12", keyType: "ecdsa-sha2-nistp256", key: ecdsa) == .unknown, "the port is part of the name")
        #expect(file.verdict(for: "10.0.1.40", keyType: "ssh-ed25519", key: ed25519) == .match)
        #expect(file.verdict(for: "10.0.2.9", keyType: "ssh-ed25519", key: ed25519) == .unknown)
        #expect(file.verdict(for: "a.example.com", keyType: "ssh-ed25519", key: ecdsa) == .unknown, "@cert-authority vouches for certificates only")
    }

    @Test("a known host offering a key of another type is a mismatch, plain and hashed alike; several known types accept any")
    func otherKeyType() {
        let salt = Data((0..<20).map { UInt8(200 - $0) })
        let hashed = "|1|\(salt.base64EncodedString())|\(hmacSHA1(salt, "10.0.0.13").base64EncodedString())"
        let file = KnownHostsFile(text: "10.0.0.11 ecdsa-sha2-nistp256 \(ecdsa)\n\(hashed) ecdsa-sha2-nistp256 \(ecdsa)\n"
                                  + "10.0.0.14 ecdsa-sha2-nistp256 \(ecdsa)\n10.0.0.14 ssh-ed25519 \(ed25519)\n")
        #expect(file.verdict(for: "10.0.0.11", keyType: "ssh-ed25519", key: ed25519) == .mismatch(knownTypes: ["ecdsa-sha2-nistp256"]))
        #expect(file.verdict(for: "10.0.0.13", keyType: "ssh-ed25519", key: ed25519) == .mismatch(knownTypes: ["ecdsa-sha2-nistp256"]))
        #expect(file.verdict(for: "10.0.0.14", keyType: "ssh-ed25519", key: ed25519) == .match)
        #expect(file.verdict(for: "10.0.0.14", keyType: "ecdsa-sha2-nistp256", key: ecdsa) == .match)
        #expect(file.keyTypes(for: "10.0.0.14") == ["ecdsa-sha2-nistp256", "ssh-ed25519"])
        #expect(file.keyTypes(for: "10.0.0.13") == ["ecdsa-sha2-nistp256"], "hashed entries order the handshake too")
        #expect(KnownHostsFile(text: "@revoked * ssh-ed25519 \(ed25519)\n10.0.0.11 ssh-ed25519 \(ed25519)\n")
            .verdict(for: "10.0.0.11", keyType: "ssh-ed25519", key: ed25519) == .revoked)
    }

    @Test("recording keeps every line, comment and multi-name entry, and writes each key once")
    func recordKeepsLines() throws {
        let path = temporaryPath("known_hosts")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let original = "# site hosts\nesxi-01,10.0.0.11 ssh-ed25519 \(ed25519) root@esxi-01\n|1|c2FsdA==|aGFzaA== ssh-ed25519 \(ed25519)\n\n10.0.0.12 ecdsa-sha2-nistp256 \(ecdsa)"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try original.write(toFile: path, atomically: false, encoding: .utf8)
        try KnownHostsFile.record(name: "[10.0.0.13]:2222", keyType: "ssh-ed25519", key: ed25519, path: path)
        try KnownHostsFile.record(name: "[10.0.0.13]:2222", keyType: "ssh-ed25519", key: ed25519, path: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original + "\n[10.0.0.13]:2222 ssh-ed25519 \(ed25519)\n")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o644 || mode == 0o664 || mode == 0o600, "the file keeps its mode")
        #expect(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent).sorted() == ["known_hosts", "known_hosts.lock"],
                "no temporary file is left behind")
    }

    @Test("8 writers at once on a 3,000-line file, 20 times: every line kept, every new one lands")
    func parallelRecords() async throws {
        let path = temporaryPath("known_hosts")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let original = (0..<3_000).map { "host-\($0).example,10.9.\($0 / 256).\($0 % 256) ssh-ed25519 \(ed25519)\n" }.joined()
        for round in 0..<20 {
            try original.write(toFile: path, atomically: true, encoding: .utf8)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    // Threads of their own: flock blocks, and must not hold Swift's cooperative pool.
                    group.addTask { try await onThread { try KnownHostsFile.record(name: "[10.0.0.\(writer)]:\(2200 + round)", keyType: "ssh-ed25519", key: self.ed25519, path: path) } }
                }
                try await group.waitForAll()
            }
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 3_008, "round \(round)")
            #expect(lines.prefix(3_000).joined(separator: "\n") + "\n" == original)
            #expect(Set(lines.suffix(8)) == Set((0..<8).map { "[10.0.0.\($0)]:\(2200 + round) ssh-ed25519 \(ed25519)" }))
        }
    }
}

func hmacSHA1(_ salt: Data, _ name: String) -> Data {
    KnownHostsFile.hmacSHA1(key: salt, message: name)
}

func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// known_hosts against a real sshd (ed25519 host key).
@Suite("known_hosts against a real sshd", .serialized, .enabled(if: SSHD.isRoot, "needs root to add a test user"))
struct KnownHostsSSHDTests {
    func host(_ sshd: SSHD, port: Int? = nil, name: String = "esxi-test") -> Inventory.Host {
        Inventory.Host(name: name, address: "127.0.0.1", port: port ?? sshd.port, user: SSHD.user, auth: .keyFile(path: sshd.clientKey, passphraseEnvironment: nil))
    }

    func connect(_ sshd: SSHD, knownHosts: String, acceptNew: Bool = false) async throws -> String {
        let ssh = SSHTransport(inventory: Inventory(), settings: .init(knownHostsPath: knownHosts, acceptNewHostKeys: acceptNew))
        return try await ssh.execute("echo ok", on: host(sshd), timeout: .seconds(10)).stdout
    }

    /// The server's own line, and a line for the same name with an ECDSA key it does not have.
    func lines(_ sshd: SSHD) async throws -> (own: String, otherType: String) {
        let name = "[127.0.0.1]:\(sshd.port)"
        let own = try String(contentsOfFile: sshd.directory.appendingPathComponent("host_key.pub").path, encoding: .utf8).split(separator: " ")
        let other = sshd.directory.appendingPathComponent("other_ecdsa").path
        _ = try await SSHD.run("ssh-keygen -q -t ecdsa -b 256 -N '' -f \(other)")
        let otherKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
        return ("\(name) \(own[0]) \(own[1])\n", "\(name) \(otherKey[0]) \(otherKey[1])\n")
    }

    @Test("a known host offering a key of another type is refused as changed, plain and hashed, even with --accept-new-host-keys")
    func otherKeyTypeRefused() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let (_, otherType) = try await lines(sshd)
        for hashed in [false, true] {
            let path = sshd.directory.appendingPathComponent("known_hosts_other_\(hashed)").path
            try otherType.write(toFile: path, atomically: true, encoding: .utf8)
            if hashed { _ = try await SSHD.run("ssh-keygen -H -f \(path) 2>&1 && rm -f \(path).old") }
            #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix(hashed ? "|1|" : "["))
            do {
                _ = try await connect(sshd, knownHosts: path, acceptNew: true)
                Issue.record("a key of another type was accepted (hashed: \(hashed))")
            } catch let error as TransportError {
                #expect(error.kind == .hostKeyMismatch)
                #expect(error.detail.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") && error.detail.contains("holds only ecdsa-sha2-nistp256 keys"))
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 1, "nothing was added")
        }
    }

    @Test("a host known with several key types is accepted with the one it offers, hashed entries first in the file")
    func severalKeyTypes() async throws {
        let sshd = try await SSHD.launch()
        defer { sshd.stop() }
        let (own, otherType) = try await lines(sshd)
        let path = sshd.directory.appendingPathComponent("known_hosts_both").path
        try (otherType + own).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await connect(sshd, knownHosts: path) == "ok\n")
        _ = try await SSHD.run("ssh-keygen -H -f \(path) >/dev/null 2>&1 && rm -f \(path).old")
        #expect(try await connect(sshd, knownHosts: path) == "ok\n")
    }

    @Test("8 parallel sessions accepting new keys into a 3,000-line known_hosts, 20 times: every line kept, all 8 land")
    func parallelAccepts() async throws {
        let sshd = try await SSHD.launch(SSHD.Options(extraPorts: 7))
        defer { sshd.stop() }
        let ports = [sshd.port] + sshd.extraPorts
        let key = try String(contentsOfFile: sshd.directory.appendingPathComponent("host_key.pub").path, encoding: .utf8).split(separator: " ")
        let original = "# site\n" + (0..<2_999).map { "esxi-\($0).example,10.9.\($0 / 256).\($0 % 256) ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\($0)\n" }.joined()
        let path = sshd.directory.appendingPathComponent("known_hosts_big").path
        for round in 0..<20 {
            try original.write(toFile: path, atomically: true, encoding: .utf8)
            let inventory = Inventory(hosts: ports.enumerated().map { host(sshd, port: $1, name: "esxi-\($0)") })
            let ssh = SSHTransport(inventory: inventory, settings: .init(knownHostsPath: path, acceptNewHostKeys: true))
            try await withThrowingTaskGroup(of: String.self) { group in
                for target in inventory.hosts { group.addTask { try await ssh.execute("echo ok", on: target, timeout: .seconds(20)).stdout } }
                for try await output in group { #expect(output == "ok\n") }
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix(original), "round \(round): every existing line kept")
            let added = Set(text.dropFirst(original.count).split(separator: "\n").map(String.init))
            #expect(added == Set(ports.map { "[127.0.0.1]:\($0) \(key[0]) \(key[1])".trimmingCharacters(in: .whitespacesAndNewlines) }), "round \(round)")
        }
    }
}
