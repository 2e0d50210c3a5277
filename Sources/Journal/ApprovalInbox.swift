import DrctlCore
import Foundation

/// Decisions given from another terminal or by another person: `drctl approve RUN STEP` and
/// `drctl deny RUN STEP` each write one file per step into the run's `decisions/` directory, whole
/// (a temporary file renamed), and the run takes the decision from there when it reaches, or
/// waits at, that approval. The run's journal line is the record; the file is only the message.
public struct ApprovalInbox: Sendable {
    public struct Decision: Codable, Sendable, Equatable {
        public var step: String
        public var approve: Bool
        /// The OS account, as `OperatorIdentity` describes it (`root (sudo by alice)`).
        public var by: String
        /// The person: who ran sudo, else the account. What `approvers:` lists.
        public var person: String
        public var givenName: String?
        public var reason: String
        public var at: Date

        public init(step: String, approve: Bool, identity: OperatorIdentity, givenName: String?, reason: String, at: Date = Date()) {
            self.step = step
            self.approve = approve
            self.by = identity.description
            self.person = identity.person
            self.givenName = givenName
            self.reason = reason
            self.at = at
        }
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public let directory: URL

    public init(run: RunDirectory) {
        directory = run.url.appendingPathComponent("decisions")
    }

    /// The inbox of run `id`, before its directory exists.
    public init(runID id: String, in runsDirectory: String) {
        directory = URL(fileURLWithPath: runsDirectory).appendingPathComponent(id).appendingPathComponent("decisions")
    }

    /// Leaves a decision for the run; refuses a second one for the same step.
    public func post(_ decision: Decision) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = directory.appendingPathComponent(Self.fileName(decision.step))
        let temporary = directory.appendingPathComponent(".\(UUID().uuidString).tmp")
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(decision).write(to: temporary)
        // link(2) fails if the name exists: of two people deciding at once, one wins, whole.
        defer { unlink(temporary.path) }
        guard link(temporary.path, file.path) == 0 else {
            if errno == EEXIST, let existing = self.decision(for: decision.step) {
                throw Problem(description: "\(decision.step) was already \(existing.approve ? "approved" : "denied") by \(existing.by) at \(existing.at)")
            }
            throw Problem(description: "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    /// The decision left for `step`, if any.
    public func decision(for step: String) -> Decision? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.fileName(step)).path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Decision.self, from: data)
    }

    /// A decision read, or given at the terminal, that the run could not take (the wrong person):
    /// removed, so another can be left.
    public func withdraw(step: String) {
        unlink(directory.appendingPathComponent(Self.fileName(step)).path)
    }

    static func fileName(_ step: String) -> String {
        // Step ids are [A-Za-z0-9_-]; anything else is replaced rather than trusted in a path.
        String(step.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }) + ".json"
    }
}
