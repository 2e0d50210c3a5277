import DrctlCore
import Foundation

/// How long ESXi takes over each kind of command, so a drill in virtual time predicts how long the
/// recovery would take on real hosts. Figures and their sources are in docs/simulator.md; a
/// scenario's `durations:` overrides any of them.
public struct CommandDurations: Codable, Sendable, Equatable {
    /// What a command does, as far as its duration goes.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case sshConnect = "ssh_connect"
        case shell
        case vimCmdRead = "vim_cmd_read"
        case esxcliRead = "esxcli_read"
        case registervm
        case powerOn = "power_on"
        case powerOff = "power_off"
        case unregister
        case answer
        case rescanPerAdapter = "rescan_per_adapter"
        case snapshotMount = "snapshot_mount"
        case hostdRestart = "hostd_restart"
        case maintenance
        case vcsaBoot = "vcsa_boot"
        case vcsaServicesStart = "vcsa_services_start"
    }

    /// A typical time and how far either side of it a run may land (seeded, so a seed replays).
    public struct Spread: Codable, Sendable, Equatable {
        public var milliseconds: Int
        /// Percent of `milliseconds` either side, uniformly.
        public var jitterPercent: Int

        public init(_ milliseconds: Int, jitter: Int) {
            self.milliseconds = milliseconds
            jitterPercent = jitter
        }
    }

    public var commands: [Kind: Spread]
    /// Guest OS boot until VMware Tools runs, by guest family (`linux`, `windows`, `other`).
    public var guestBoot: [String: Spread]

    public static let defaults = CommandDurations(
        commands: [.sshConnect: Spread(600, jitter: 30), .shell: Spread(30, jitter: 30), .vimCmdRead: Spread(400, jitter: 25),
                   .esxcliRead: Spread(1_500, jitter: 30), .registervm: Spread(2_000, jitter: 40), .powerOn: Spread(3_000, jitter: 40),
                   .powerOff: Spread(2_000, jitter: 40), .unregister: Spread(1_000, jitter: 30), .answer: Spread(800, jitter: 25),
                   .rescanPerAdapter: Spread(8_000, jitter: 40), .snapshotMount: Spread(4_000, jitter: 30),
                   .hostdRestart: Spread(45_000, jitter: 30), .maintenance: Spread(5_000, jitter: 30),
                   .vcsaBoot: Spread(240_000, jitter: 20), .vcsaServicesStart: Spread(360_000, jitter: 20)],
        guestBoot: ["linux": Spread(45_000, jitter: 30), "windows": Spread(120_000, jitter: 30), "other": Spread(60_000, jitter: 30)])

    /// Every figure zero: a scenario that wants commands to take no time (`durations: none`).
    public static let none = CommandDurations(commands: Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0, Spread(0, jitter: 0)) }),
                                              guestBoot: ["linux": Spread(0, jitter: 0), "windows": Spread(0, jitter: 0), "other": Spread(0, jitter: 0)])

    /// The seeded time of one occurrence of `kind`; `key` names the occurrence.
    public func time(of kind: Kind, seed: UInt64, key: String) -> Int {
        (commands[kind] ?? Self.defaults.commands[kind]!).draw(seed: seed, key: "\(kind.rawValue)/\(key)")
    }

    /// How long `vm` takes from power-on until its guest runs VMware Tools.
    public func guestBoot(of vm: SimVM, seed: UInt64) -> Int {
        if let own = vm.bootMilliseconds { return own }
        let family = Self.family(of: vm.guestOS)
        return (guestBoot[family] ?? guestBoot["other"] ?? Spread(0, jitter: 0)).draw(seed: seed, key: "boot/\(vm.name)")
    }

    /// `windows2019srv_64Guest` → windows; `rhel9_64Guest`, `debian12_64Guest`, `vmwarePhoton64Guest` → linux.
    static func family(of guestOS: String) -> String {
        let id = guestOS.lowercased()
        if id.hasPrefix("windows") || id.hasPrefix("win") { return "windows" }
        let linux = ["linux", "rhel", "centos", "debian", "ubuntu", "sles", "oracle", "photon", "rocky", "alma", "fedora", "coreos", "amazon"]
        return linux.contains { id.contains($0) } ? "linux" : "other"
    }

    /// What kind of command this is. A pipeline is as slow as its slowest part.
    static func kinds(of command: String) -> [Kind] {
        var kinds: [Kind] = []
        if command.includes("solo/registervm") { kinds.append(.registervm) }
        if command.includes("vmsvc/power.on") { kinds.append(.powerOn) }
        if command.includes("vmsvc/power.off") { kinds.append(.powerOff) }
        if command.includes("vmsvc/unregister") { kinds.append(.unregister) }
        if command.includes("vmsvc/message"), isAnswer(command) { kinds.append(.answer) }
        if command.includes("adapter rescan") { kinds.append(.rescanPerAdapter) }
        if command.includes("snapshot mount") { kinds.append(.snapshotMount) }
        if command.includes("init.d/hostd restart") || command.includes("init.d/hostd start") { kinds.append(.hostdRestart) }
        if command.includes("maintenanceMode set") { kinds.append(.maintenance) }
        if command.includes("service-control"), command.includes("--start") { kinds.append(.vcsaServicesStart) }
        if kinds.isEmpty {
            if command.includes("esxcli") { kinds.append(.esxcliRead) } else if command.includes("vim-cmd") { kinds.append(.vimCmdRead) } else { kinds.append(.shell) }
        }
        return kinds
    }

    /// `vmsvc/message VMID ID CHOICE` answers a question; `vmsvc/message VMID` only reads it.
    static func isAnswer(_ command: String) -> Bool {
        let words = command.split(separator: " ")
        guard let index = words.firstIndex(where: { $0.hasSuffix("vmsvc/message") }) else { return false }
        return words.count - index > 3
    }
}

extension CommandDurations.Spread {
    func draw(seed: UInt64, key: String) -> Int {
        guard jitterPercent > 0, milliseconds > 0 else { return milliseconds }
        let spread = Double(milliseconds * jitterPercent) / 100
        let unit = SeededRandom.unit(seed: seed, key: key)
        return max(0, milliseconds + Int((unit * 2 - 1) * spread))
    }
}
