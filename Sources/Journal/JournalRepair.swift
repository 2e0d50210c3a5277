import Foundation

/// Where an interrupted journal ends: its last whole line, and the torn line after it when the
/// process died mid-write. Resume continues the chain from there.
public struct JournalRepair: Sendable {
    public var lastSequence: Int
    public var lastHash: String
    /// Bytes of a last line cut off by the crash.
    public var tornBytes: Data?
    /// Where the whole lines end.
    let intactLength: Int

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the journal; refuses one whose chain is broken (an edited journal is no checkpoint).
    public static func inspect(_ directory: RunDirectory) throws -> JournalRepair {
        guard let data = FileManager.default.contents(atPath: directory.journal.path) else {
            throw Problem(description: "\(directory.journal.path): cannot read the journal")
        }
        let verdict = JournalChain.verify(data, directory: directory.url)
        if let broken = verdict.broken {
            throw Problem(description: "\(directory.journal.path):\(broken.line): the hash chain breaks here (\(broken.reason)); "
                          + "a journal that was altered cannot be trusted as a checkpoint: check the hosts by hand and start a new run")
        }
        let intactLength = data.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        let lines = data.prefix(intactLength).split(separator: 0x0A)
        let lastHash = lines.last.map { JournalChain.sha256(Data($0)) } ?? JournalChain.genesis
        return JournalRepair(lastSequence: verdict.intact, lastHash: lastHash,
                             tornBytes: intactLength < data.count ? data.suffix(from: intactLength) : nil, intactLength: intactLength)
    }

    /// Cuts the torn line off the journal, keeping its bytes beside it; returns that file's name.
    public func apply(to directory: RunDirectory) throws -> String? {
        guard let tornBytes else { return nil }
        let name = "journal.torn-after-\(lastSequence)"
        try tornBytes.write(to: directory.url.appendingPathComponent(name))
        let handle = try FileHandle(forWritingTo: directory.journal)
        try handle.truncate(atOffset: UInt64(intactLength))
        try handle.synchronize()
        try handle.close()
        return name
    }
}
