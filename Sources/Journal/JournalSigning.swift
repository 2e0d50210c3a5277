import DrctlCore
import Crypto
import Foundation

/// Optional signing of a journal's checkpoints with an ed25519 key: `run-paused` and `run-ended`
/// carry a signature over the chain's head before them, so a forger who re-chains the journal
/// cannot also make the signatures hold. The key file holds the 32-byte private key as hex
/// (`drctl transcript keygen` writes one, 0600, and its public half beside it as FILE.pub).
public struct JournalSigner: Sendable {
    /// The raw key; the CryptoKit type is rebuilt for each signature (it is not Sendable).
    private let raw: Data
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: raw) }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public init(keyFile: String) throws {
        guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8), let raw = Data(hex: text.trimmingWhitespace()),
              (try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)) != nil else {
            throw Problem(description: "\(keyFile): not an ed25519 signing key (64 hex digits, as `drctl transcript keygen` writes)")
        }
        self.raw = raw
    }

    public var publicKeyHex: String { key.publicKey.rawRepresentation.hexString }

    func sign(_ head: String) -> String {
        ((try? key.signature(for: Data(head.utf8))) ?? Data()).base64EncodedString()
    }

    /// Writes a new key to `path` (0600) and its public half to `path.pub`.
    public static func generate(to path: String) throws -> String {
        let key = Curve25519.Signing.PrivateKey()
        guard FileManager.default.createFile(atPath: path, contents: Data((key.rawRepresentation.hexString + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Problem(description: "cannot write \(path)")
        }
        try Data((key.publicKey.rawRepresentation.hexString + "\n").utf8).write(to: URL(fileURLWithPath: path + ".pub"))
        return key.publicKey.rawRepresentation.hexString
    }
}

/// What the signatures of a journal's checkpoints say, given the public key.
public struct SignatureCheck: Sendable, Equatable {
    /// Lines 1...signedThrough are covered by a good signature.
    public var signedThrough: Int
    /// The first checkpoint that is unsigned or badly signed, and why.
    public var problem: (line: Int, reason: String)?
    public var lines: Int

    public static func == (a: SignatureCheck, b: SignatureCheck) -> Bool {
        a.signedThrough == b.signedThrough && a.problem?.line == b.problem?.line && a.lines == b.lines
    }

    public static func check(_ journal: Data, publicKeyFile: String) throws -> SignatureCheck {
        guard let text = try? String(contentsOfFile: publicKeyFile, encoding: .utf8), let raw = Data(hex: text.trimmingWhitespace()),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw JournalSigner.Problem(description: "\(publicKeyFile): not an ed25519 public key (64 hex digits)")
        }
        let lines = journal.withUnsafeBytes { bytes in JournalLines.ranges(in: journal).map { Data(bytes[$0]) } }
        var result = SignatureCheck(signedThrough: 0, problem: nil, lines: lines.count)
        for (index, line) in lines.enumerated() {
            guard let entry = JournalJSON.object(from: line),
                  ["run-ended", "run-paused"].contains(entry["type"] as? String ?? "") else { continue }
            guard let head = entry["chain_head"] as? String, let signature = (entry["signature"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
                result.problem = (index + 1, "this checkpoint is not signed")
                return result
            }
            // The signed head must be the chain's actual head there: a re-chained journal keeps the
            // old, validly signed head in this field, but its `prev` no longer matches it.
            guard head == entry["prev"] as? String, key.isValidSignature(signature, for: Data(head.utf8)) else {
                result.problem = (index + 1, "this checkpoint's signature does not hold for this key: the lines before it were changed, or another key signed")
                return result
            }
            result.signedThrough = index
        }
        return result
    }
}

extension Data {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }

    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
