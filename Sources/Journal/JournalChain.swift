import Crypto
import Foundation

/// The hash chain of a journal: each line names the SHA-256 of the line before it.
public enum JournalChain {
    public static let genesis = String(repeating: "0", count: 64)

    public static func sha256<Bytes: DataProtocol>(_ data: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: data) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    public struct Verdict: Sendable, Equatable {
        /// Events whose chain holds.
        public var intact: Int
        /// The first line that breaks the chain (1-based) and why.
        public var broken: (line: Int, reason: String)?
        /// The last line was cut off mid-write (a crash): tolerated, reported.
        public var tornLastLine: Bool
        /// The SHA-256 of each intact line, in order: the last is the journal's head, the value an
        /// operator stores elsewhere (`transcript verify --expect`) to anchor the record.
        public var lineHashes: [String] = []

        public var head: String { lineHashes.last ?? JournalChain.genesis }

        public static func == (a: Verdict, b: Verdict) -> Bool {
            a.intact == b.intact && a.broken?.line == b.broken?.line && a.broken?.reason == b.broken?.reason && a.tornLastLine == b.tornLastLine
        }
    }

    /// Checks every line's `prev` against the hash of the line before it and, given the run's
    /// directory, every `outputs/` file against the SHA-256 its line records.
    public static func verify(_ journal: Data, directory: URL? = nil) -> Verdict {
        journal.withUnsafeBytes { bytes in
            let lines = JournalLines.ranges(in: journal, keepingEmpty: true).map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
            return verify(lines: lines, entries: lines.map { JournalJSON.object(from: $0) }, endsInNewline: journal.last == 0x0A, directory: directory)
        }
    }

    /// The same check over lines already read: each line's entry, nil where it is not JSON.
    static func verify(lines: [UnsafeRawBufferPointer], entries: [[String: Any]?], endsInNewline: Bool, directory: URL?) -> Verdict {
        var verdict = Verdict(intact: 0, broken: nil, tornLastLine: false)
        var previous = genesis
        for (index, (line, entry)) in zip(lines, entries).enumerated() {
            guard let entry else {
                if index == lines.count - 1 && !endsInNewline {
                    verdict.tornLastLine = true
                } else {
                    verdict.broken = (index + 1, "not a JSON object: the line was altered")
                }
                return verdict
            }
            guard entry["prev"] as? String == previous else {
                verdict.broken = (index + 1, "its prev does not match the line before it: this line or the one before was edited, added or removed")
                return verdict
            }
            guard entry["seq"] as? Int == index + 1 else {
                verdict.broken = (index + 1, "sequence number \(entry["seq"] ?? "none") where \(index + 1) was due: lines were removed or reordered")
                return verdict
            }
            if let directory, let problem = alteredOutput(entry, in: directory) {
                verdict.broken = (index + 1, problem)
                return verdict
            }
            previous = sha256(line)
            verdict.lineHashes.append(previous)
            verdict.intact += 1
        }
        return verdict
    }

    /// An `outputs/` file a line names whose content no longer has the SHA-256 the line records.
    static func alteredOutput(_ entry: [String: Any], in directory: URL) -> String? {
        for (key, value) in entry where key.hasSuffix("_file") {
            guard let file = value as? String, file.hasPrefix("outputs/"),
                  let expected = entry[String(key.dropLast("_file".count)) + "_sha256"] as? String else { continue }
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) else {
                return "\(file), which this line names, is missing"
            }
            if sha256(data) != expected { return "\(file) was altered: its SHA-256 is not the one this line records" }
        }
        return nil
    }
}
