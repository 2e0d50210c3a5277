import DrctlCore

/// What a successful run leaves behind, checked against live state when the run ends.
///
/// The `read` steps run last, whatever happened before, and only read; each `require` entry then
/// checks every item of its list. A run is `succeeded` only when every step succeeded and every
/// item holds, at least one checked; `partial` when some do (or all do but a step did not
/// succeed), `handed off` when what does not hold was left to a manual step (`hand_off:`), and
/// `failed` otherwise: nothing checked proves nothing. `docs/runbook-format.md` describes it.
public struct Goal: Sendable {
    public var description: String
    /// Read-only steps (no `foreach`) run at the end; they may read every step's outputs.
    public var read: [Step]
    public var require: [Requirement]
    public var location: SourceLocation

    public struct Requirement: Sendable {
        /// The things the run must have recovered: VMs, hosts, datastores.
        public var each: LocatedTemplate
        /// Named values per item, evaluated in order; `result` holds the ones set before.
        public var set: [(name: String, template: LocatedTemplate)]
        /// True when the item is recovered; reads `item`, `result` and every step's outputs.
        public var holds: LocatedCondition
        /// What was seen for the item, shown beside its verdict.
        public var shows: LocatedTemplate?
        /// When every list of the goal is empty: what could not be established, and what the
        /// operator should do. Reads the steps' outputs, not `item`.
        public var noneFound: LocatedTemplate?
        public var location: SourceLocation
    }
}
