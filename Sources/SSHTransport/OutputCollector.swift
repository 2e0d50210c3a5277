import Crypto
import Engine
import Foundation

/// Where and from what size a session's commands spool their output.
struct OutputSpooling: Sendable {
    var directory: String
    var redactor: Redactor
    var memoryLimit: Int

    func collector(for stream: String) -> OutputCollector {
        OutputCollector(stream: stream, directory: directory, redactor: redactor, memoryLimit: memoryLimit)
    }
}

/// Gathers what one stream of a command prints. Up to `memoryLimit` bytes stay in memory; beyond
/// that the whole stream goes to a file in `directory` as it arrives, masked on the way, with its
/// SHA-256 computed as it is written, and memory keeps only the first `headBytes`.
final class OutputCollector {
    static let headBytes = 64 * 1024

    private let memoryLimit: Int
    private let directory: String
    private let redactor: Redactor
    private let stream: String
    private(set) var memory = Data()
    private var spool: Spool?
    /// Why the spool file could not be written, for the command's error.
    private(set) var failure: String?

    private struct Spool {
        let path: String
        let descriptor: Int32
        let masking: RedactingStream
        var hasher = SHA256()
        var bytes = 0
    }

    init(stream: String, directory: String, redactor: Redactor, memoryLimit: Int = SpooledOutput.memoryLimit) {
        self.stream = stream
        self.directory = directory
        self.redactor = redactor
        self.memoryLimit = memoryLimit
    }

    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard failure == nil else { return }
        if spool == nil {
            memory.append(contentsOf: bytes)
            if memory.count > memoryLimit { startSpooling() }
            return
        }
        write(Data(bytes))
    }

    /// Takes bytes back from the front of the stream (the process-group line drctl adds).
    func replaceMemory(_ data: Data) {
        if spool == nil { memory = data }
    }

    /// The spooled file, complete and on disk; nil when everything fit in memory.
    func finish() -> SpooledOutput? {
        guard var spool else { return nil }
        self.spool = nil
        write(spool.masking.finish(), into: &spool)
        fsync(spool.descriptor)
        close(spool.descriptor)
        if failure != nil {
            unlink(spool.path)
            return nil
        }
        let digest = spool.hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return SpooledOutput(path: spool.path, bytes: spool.bytes, sha256: digest)
    }

    /// The command failed: its partial spool is removed.
    func discard() {
        guard let spool else { return }
        close(spool.descriptor)
        unlink(spool.path)
        self.spool = nil
    }

    private func startSpooling() {
        let path = (directory as NSString).appendingPathComponent("spool-\(UUID().uuidString).\(stream)")
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            failure = "cannot write \(path): \(String(cString: strerror(errno)))"
            return
        }
        spool = Spool(path: path, descriptor: descriptor, masking: RedactingStream(redactor))
        let everything = memory
        memory = Data(everything.prefix(Self.headBytes))
        // In slices, so masking never holds a second copy of the whole.
        for start in stride(from: everything.startIndex, to: everything.endIndex, by: 64 * 1024) {
            write(everything[start..<min(start + 64 * 1024, everything.endIndex)])
        }
    }

    private func write(_ data: Data) {
        guard var spool else { return }
        write(spool.masking.push(data), into: &spool)
        self.spool = spool
    }

    private func write(_ masked: Data, into spool: inout Spool) {
        guard !masked.isEmpty, failure == nil else { return }
        spool.hasher.update(data: masked)
        spool.bytes += masked.count
        let problem: String? = masked.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(spool.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { return String(cString: strerror(errno)) }
                offset += written
            }
            return nil
        }
        if let problem { failure = "cannot write \(spool.path): \(problem)" }
    }
}
