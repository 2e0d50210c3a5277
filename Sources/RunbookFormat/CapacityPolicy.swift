import DrctlCore

/// How much a surviving host may take, one rule for placement (the `place` filter), the
/// simulator's site invariants and `whatif`, so that what a drill expects is what a run does.
///
/// - memory: a host gives VMs up to `memory × memoryOvercommit` less what it already uses
///   (the operations guide recommends 1.2 to 1.5:1 for recovery; 1.0 never overcommits);
/// - reservations: a VM's `memory_reservation_mb` must fit in what is physically free, whatever
///   the ratio (ESXi refuses to power on a VM whose reservation it cannot back);
/// - a cap on the recovered VMs one host takes, by default ESXi's own limit (1,024 VMs per host
///   in vSphere 7 and 8), not an arbitrary 50.
public struct CapacityPolicy: Sendable, Equatable {
    /// vSphere 7 and 8's configuration maximum: virtual machines per host.
    public static let esxiMaxVMsPerHost = 1024

    public var memoryOvercommit: Double
    public var maxVMsPerHost: Int
    public var honoursReservations: Bool

    public init(memoryOvercommit: Double = 1.0, maxVMsPerHost: Int = CapacityPolicy.esxiMaxVMsPerHost, honoursReservations: Bool = true) {
        self.memoryOvercommit = memoryOvercommit
        self.maxVMsPerHost = maxVMsPerHost
        self.honoursReservations = honoursReservations
    }

    /// From a run's params: `memory_overcommit`, `max_vms_per_host`, `honour_reservations`
    /// (each optional: the defaults above).
    public init(params: [String: Value]) {
        self.init()
        if let ratio = params["memory_overcommit"]?.numberValue, ratio > 0 { memoryOvercommit = ratio }
        if let cap = params["max_vms_per_host"]?.numberValue, cap >= 1 { maxVMsPerHost = Int(min(cap, 1_000_000)) }
        if let honours = params["honour_reservations"], case .bool(let value) = honours { honoursReservations = value }
    }

    /// The `place` filter's argument: a policy map (`capacity_policy`), a number (a cap, as
    /// before), or nothing (the defaults).
    public init(_ value: Value?) throws {
        switch value {
        case nil, .null?: self.init()
        case .number(let cap)?: self.init(maxVMsPerHost: Int(max(1, min(cap, 1_000_000))))
        case .map(let fields)?: self.init(params: fields)
        case let other?: throw EvaluationError("place's capacity policy must come from capacity_policy (or be a number of VMs per host), got \(other.kindName)")
        }
    }

    /// Memory a host with `memoryMB` using `usedMB` may still give VMs.
    public func room(memoryMB: Double, usedMB: Double) -> Double { memoryMB * memoryOvercommit - usedMB }

    /// The ratio that would give `neededMB` more on a host with `memoryMB` using `usedMB`,
    /// rounded up to a tenth.
    public static func ratio(toFit neededMB: Double, memoryMB: Double, usedMB: Double) -> Double {
        guard memoryMB > 0 else { return .infinity }
        return ((usedMB + neededMB) / memoryMB * 10).rounded(.up) / 10
    }

    /// "memory overcommit 1.0:1, reservations honoured, at most 1024 recovered VMs per host".
    public var says: String {
        "memory overcommit \(memoryOvercommit.fixed(1)):1 (change with --param memory_overcommit=1.4), "
            + (honoursReservations ? "reservations honoured" : "reservations not checked")
            + ", at most \(maxVMsPerHost) recovered VMs per host" + (maxVMsPerHost == Self.esxiMaxVMsPerHost ? " (ESXi's limit)" : "")
    }

    /// As templates see it (`capacity_policy`): the fields, and `says`.
    public var value: Value {
        ["memory_overcommit": .number(memoryOvercommit), "max_vms_per_host": .int(maxVMsPerHost),
         "honour_reservations": .bool(honoursReservations), "says": .string(says)]
    }
}
