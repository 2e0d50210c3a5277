import DrctlCore
import Engine
import Foundation

/// Writes every run event as one JSON line, in order, and flushes it to disk (fsync); a command
/// that changes a host is sent only once its line is on disk, so the journal always holds at
/// least every change that may have happened. Each line carries the SHA-256 of the
/// line before it (`prev`), so an edited or removed line breaks the chain. Output larger than
/// `inlineLimit` is kept in full in `outputs/` and the journal line points at it.
///
/// Group commit: events that arrive while a flush is on its way to disk go out together in the
/// next one, so parallel steps share fsyncs instead of queueing for one each. The writes and
/// fsyncs run on a queue of their own, never on Swift's cooperative pool.
public actor JournalWriter: RunObserver {
    public nonisolated let directory: RunDirectory
    private let handle: FileHandle
    private let inlineLimit: Int
    private let header: RunHeader?
    private let redactor: Redactor
    private var sequence: Int
    private var previousHash: String
    /// Extra fields for the run-resumed entry (the torn line found, a changed runbook allowed).
    private let resumeNotes: [String: String]
    /// Late events (a connection dropping after the run ended) are not written after close.
    private var closed = false
    /// Released on close: until then no other process may write this run.
    private var lock: RunLock?
    /// Lines numbered but not yet handed to the disk, and where an armed failpoint cuts them.
    private var pending = Data()
    private var pendingCrashCut: Int?
    /// Where an armed `write-error-line` failpoint makes the disk full (half-way into its line).
    private var pendingFullDiskCut: Int?
    /// The sequence number of the last line on disk (fsync'd).
    private var durable: Int
    /// The hash of the last line whole on disk: the only head worth handing to anyone.
    private var durableHash: String
    private var flushing = false
    /// The first write or fsync that failed, with its path and OS error: from then on nothing is
    /// written, and the engine changes no host (a change needs its line on disk first).
    private var failure: String?
    private var waiters: [(sequence: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private nonisolated let disk = DispatchQueue(label: "drctl.journal.disk")

    /// A new journal for a new run.
    public init(directory: RunDirectory, header: RunHeader? = nil, redactor: Redactor = Redactor(), inlineLimit: Int = 16 * 1024) throws {
        let lock = try directory.lock()
        // If it cannot be created, opening it just below throws with the reason.
        _ = FileManager.default.createFile(atPath: directory.journal.path, contents: nil, attributes: [.posixPermissions: 0o600])
        try self.init(directory: directory, handle: try FileHandle(forWritingTo: directory.journal), header: header, redactor: redactor,
                      inlineLimit: inlineLimit, sequence: 0, previousHash: JournalChain.genesis, resumeNotes: [:], lock: lock)
    }

    /// Goes on writing an interrupted run's journal, continuing its chain after its last whole line.
    /// The caller took the run's lock before it read the journal.
    public init(continuing directory: RunDirectory, holding lock: RunLock, after repair: JournalRepair, redactor: Redactor = Redactor(),
                notes: [String: String] = [:], inlineLimit: Int = 16 * 1024) throws {
        let handle = try FileHandle(forWritingTo: directory.journal)
        try handle.seekToEnd()
        try self.init(directory: directory, handle: handle, header: nil, redactor: redactor, inlineLimit: inlineLimit,
                      sequence: repair.lastSequence, previousHash: repair.lastHash, resumeNotes: notes, lock: lock)
    }

    private init(directory: RunDirectory, handle: FileHandle, header: RunHeader?, redactor: Redactor, inlineLimit: Int, sequence: Int,
                 previousHash: String, resumeNotes: [String: String], lock: RunLock) throws {
        self.lock = lock
        self.directory = directory
        self.handle = handle
        self.header = header
        self.redactor = redactor
        self.inlineLimit = inlineLimit
        self.sequence = sequence
        durable = sequence
        durableHash = previousHash
        self.previousHash = previousHash
        self.resumeNotes = resumeNotes
    }

    /// Why the record could not be written, once a write failed. Async like `RunObserver`'s, so
    /// that a direct call never lands on the protocol's default (which knows of no failure).
    public func recordLost() async -> String? { failure }

    /// Checkpoints signed from now on (`--sign-key`).
    private var signer: JournalSigner?

    public func sign(with signer: JournalSigner) { self.signer = signer }

    /// A drill in virtual time: each line's `time` is the drill's simulated time and `wall_time`
    /// when it was written; the first line of each attempt says `clock: virtual`.
    private var clock: (any RunClock)?

    public func stamp(with clock: any RunClock) { self.clock = clock }

    public func record(_ event: RunEvent) async {
        guard !closed, failure == nil else { return }
        var fields = JournalEntry.fields(for: event, run: directory.id)
        switch event {
        case .runStarted: fields.merge(header?.fields ?? [:]) { first, _ in first }
        case .runResumed: fields.merge(resumeNotes) { first, _ in first }
        case .commandFinished(let step, _, let host, _, let result):
            fields.merge(output("stdout", result.stdout, spooled: result.stdoutSpool, step: step, host: host)) { first, _ in first }
            fields.merge(output("stderr", result.stderr, spooled: result.stderrSpool, step: step, host: host)) { first, _ in first }
        case .itemFinished(let step, _, let outcome):
            fields.merge(outputs(outcome.outputs, step: step)) { first, _ in first }
        default: break
        }
        let line = append(redacted(fields) as? [String: Any] ?? [:])
        // A change waits until its line, and so every line before it (one file, written in order),
        // is on disk. Other events need not wait: a read changes nothing, and a run killed before
        // their lines reach the disk resumes from the lines that did (an item left in flight is
        // checked before anything is sent again). Waiting for each was one fsync per event in a
        // drill, whose commands run one at a time.
        if case .commandSent(_, _, _, _, mutates: true) = event {
            await onDisk(through: line)
        } else {
            flushSoon()
        }
    }

    /// Every text in the entry, masked, before anything reaches the disk.
    private func redacted(_ value: Any) -> Any { redactor.redactEverywhere(value) }

    /// Small output goes inline; large output goes to a file of its own, named in the entry.
    /// Output the transport already streamed to a file (masked as it arrived) is moved into
    /// `outputs/`, never copied: it is stored once.
    private func output(_ stream: String, _ text: String, spooled: SpooledOutput?, step: String, host: String) -> [String: Any] {
        // Only output stored in a file of its own needs a name.
        var name: String { "\(sequence + 1)-\(safe(step))-\(safe(host)).\(stream)" }
        if let spooled {
            let file = directory.outputs.appendingPathComponent(name)
            do {
                try FileManager.default.moveItem(atPath: spooled.path, toPath: file.path)
            } catch {
                noteFailure("\(file.path): cannot move \(spooled.path) there: \(error.localizedDescription)")
            }
            return ["\(stream)_file": "outputs/\(name)", "\(stream)_bytes": spooled.bytes,
                    "\(stream)_head": String(redactor.redact(text).prefix(512)), "\(stream)_sha256": spooled.sha256]
        }
        let text = redactor.redact(text)
        let bytes = text.utf8.count
        guard bytes > inlineLimit else { return [stream: text] }
        let data = Data(text.utf8)
        writeFile(name, data)
        // The file's hash goes into the chained line that names it: altering the file breaks the chain.
        return ["\(stream)_file": "outputs/\(name)", "\(stream)_bytes": bytes, "\(stream)_head": String(text.prefix(512)),
                "\(stream)_sha256": JournalChain.sha256(data)]
    }

    /// An item's outputs, what later steps read: resume rebuilds their templates from them.
    private func outputs(_ values: [String: Value], step: String) -> [String: Any] {
        let value = Value.map(values)
        // Most outputs are a few short values: no need to encode them to know they fit inline
        // (unless something is masked: a mask may be longer than what it hides).
        if redactor.isEmpty, value.encodedSizeBound <= inlineLimit { return ["outputs": value.jsonObject] }
        let mask: ((String) -> String)? = redactor.isEmpty ? nil : { [redactor] in redactor.redact($0) }
        let bytes = JournalJSON.encode(value, masking: mask)
        guard bytes.count > inlineLimit else { return ["outputs": redacted(value.jsonObject)] }
        let name = "\(sequence + 1)-\(safe(step)).outputs.json"
        writeFile(name, bytes)
        return ["outputs_file": "outputs/\(name)", "outputs_sha256": JournalChain.sha256(bytes)]
    }

    /// A large output in a file of its own, on disk before the line that names it.
    private func writeFile(_ name: String, _ data: some ContiguousBytes) {
        let file = directory.outputs.appendingPathComponent(name)
        if let problem = Self.writeWhole(data, to: file.path) { noteFailure("\(file.path): \(problem)") }
    }

    /// Writes and fsyncs a whole file; the OS error when it could not.
    private static func writeWhole(_ data: some ContiguousBytes, to path: String) -> String? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        defer { Foundation.close(descriptor) }
        if let injected = Failpoint.injectedWriteError() { return String(cString: strerror(injected)) }
        let written = data.withUnsafeBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let count = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 { if errno == EINTR { continue } else { return -1 } }
                offset += count
            }
            return offset
        }
        if written < 0 || fsync(descriptor) != 0 { return String(cString: strerror(errno)) }
        return nil
    }

    private func noteFailure(_ problem: String) {
        if failure == nil { failure = problem }
    }

    private func safe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }

    /// Numbers, times and chains the entry, and queues its line; returns its sequence number.
    private func append(_ fields: [String: Any]) -> Int {
        var entry = fields
        entry["seq"] = sequence + 1
        if let clock, clock.isVirtual {
            entry["time"] = Timestamp.string(from: clock.date())
            entry["wall_time"] = Timestamp.string(from: Date())
            if ["run-started", "run-resumed"].contains(fields["type"] as? String ?? "") { entry["clock"] = "virtual" }
        } else {
            entry["time"] = Timestamp.string(from: Date())
        }
        entry["prev"] = previousHash
        // A checkpoint names the head of the chain before it (what an operator may anchor).
        if ["run-ended", "run-paused"].contains(fields["type"] as? String ?? "") {
            entry["chain_head"] = previousHash
            if let signer {
                entry["signature"] = signer.sign(previousHash)
                entry["signed_by"] = signer.publicKeyHex
            }
        }
        var data = JournalJSON.encode(entry)
        sequence += 1
        previousHash = JournalChain.sha256(data)
        data.append(0x0A)
        if Failpoint.reached(fields["type"] as? String ?? "") {
            pendingCrashCut = pending.count + (Failpoint.tears ? data.count / 2 : data.count)
        }
        if Failpoint.failsWrite(ofLine: sequence) { pendingFullDiskCut = pending.count + data.count / 2 }
        pending.append(data)
        return sequence
    }

    /// Returns once the line numbered `target` is on disk: the event is recorded before the
    /// action it announces proceeds.
    private func onDisk(through target: Int) async {
        guard durable < target else { return }
        await withCheckedContinuation { continuation in
            waiters.append((target, continuation))
            flushSoon()
        }
    }

    /// Starts handing what is queued to the disk, unless a flush is already on its way (it takes
    /// everything queued meanwhile).
    private func flushSoon() {
        guard !flushing, !pending.isEmpty else { return }
        flushing = true
        Task { await flush() }
    }

    /// Hands everything queued to the disk, one batch per fsync, until nothing is left.
    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            let last = sequence
            let lastHash = previousHash
            let crashCut = pendingCrashCut
            let fullDiskCut = pendingFullDiskCut
            pending = Data()
            pendingCrashCut = nil
            pendingFullDiskCut = nil
            if failure == nil {
                if let problem = await write(batch, crashCut: crashCut, fullDiskCut: fullDiskCut) {
                    noteFailure("\(directory.journal.path): \(problem)")
                } else {
                    durableHash = lastHash
                }
            }
            // Waiters go on either way: after a failure they find the record lost and change nothing.
            durable = last
            let ready = waiters.filter { $0.sequence <= last }
            waiters.removeAll { $0.sequence <= last }
            for waiter in ready { waiter.continuation.resume() }
        }
        flushing = false
    }

    /// Writes and fsyncs a batch on the disk queue; at an armed failpoint, only up to its cut, then
    /// dies. Returns the OS error when the write or the fsync failed (a full disk, an I/O error).
    private nonisolated func write(_ batch: Data, crashCut: Int?, fullDiskCut: Int?) async -> String? {
        let descriptor = handle.fileDescriptor
        return await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            disk.async {
                if let fullDiskCut {
                    _ = batch.prefix(fullDiskCut).withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress!, $0.count) }
                    continuation.resume(returning: String(cString: strerror(ENOSPC)))
                    return
                }
                if let injected = Failpoint.injectedWriteError() {
                    // As a full disk does: part of the batch may reach the file, the rest does not.
                    _ = batch.prefix(batch.count / 2).withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress!, $0.count) }
                    continuation.resume(returning: String(cString: strerror(injected)))
                    return
                }
                let bytes = crashCut.map { batch.prefix($0) } ?? batch
                var problem: String?
                bytes.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            problem = String(cString: strerror(errno))
                            return
                        }
                        offset += written
                    }
                }
                if fsync(descriptor) != 0, problem == nil { problem = String(cString: strerror(errno)) }
                if crashCut != nil { Failpoint.crash() }
                continuation.resume(returning: problem)
            }
        }
    }

    /// Records that an operator gave up an unfinished run: it is not resumed, and its host leases go.
    public func recordAbandoned(reason: String) async {
        await recordExtra(["type": "run-abandoned", "run": directory.id, "reason": reason, "by": JournalEntry.operatorName,
                           "machine": ProcessInfo.processInfo.hostName])
    }

    /// Nobody reads the run's console any more (the terminal hung up, a pipe's reader went
    /// away): the run went on, and its record says from when nobody watched it.
    public func recordConsoleLost(_ reason: String) async {
        await recordExtra(["type": "console-lost", "reason": reason])
    }

    /// A line that is no engine event (a drill's verdict), masked and chained like the others.
    func recordExtra(_ fields: [String: Any]) async {
        guard !closed, failure == nil else { return }
        await onDisk(through: append(redacted(fields) as? [String: Any] ?? [:]))
    }

    /// The SHA-256 of the last line whole on disk: the journal's head. After a failed write it
    /// is the last line before the failure, so the head an operator keeps is always in the file.
    public var head: String { durableHash }

    /// Waits for everything recorded to be on disk, then closes the journal and releases the run.
    public func close() async {
        closed = true
        await onDisk(through: sequence)
        try? handle.close()
        lock = nil
    }
}

extension Value {
    /// At least as many bytes as the value's JSON: each string byte may take six (`\u0000`).
    var encodedSizeBound: Int {
        switch self {
        case .string(let text): return text.utf8.count * 6 + 2
        case .unknown(let expression): return expression.utf8.count * 6 + 8
        case .number, .bool, .null: return 32
        case .list(let items): return items.reduce(2) { $0 + $1.encodedSizeBound + 1 }
        case .map(let fields): return fields.reduce(2) { $0 + $1.key.utf8.count * 6 + 3 + $1.value.encodedSizeBound + 1 }
        }
    }
}
