// swift-tools-version: 6.0
import PackageDescription

// Dependencies point one way: DrctlCore <- ESXi <- RunbookFormat <- Engine <- DrctlCLI <- drctl.
let package = Package(
    name: "drctl",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drctl", targets: ["drctl"]),
        .executable(name: "drctl-bench", targets: ["drctl-bench"]),
        .executable(name: "drctl-fuzz", targets: ["drctl-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/onevcat/Rainbow", from: "4.2.2"),
    ],
    targets: [
        // Shared vocabulary: template values, durations, shell quoting.
        .target(name: "DrctlCore"),
        // ESXi knowledge: typed actions, command builders, output parsers, faults.
        .target(name: "ESXi", dependencies: ["DrctlCore"]),
        // The runbook and inventory formats: YAML parsing with positions, templates, validation.
        .target(name: "RunbookFormat", dependencies: ["DrctlCore", "ESXi", .product(name: "Yams", package: "Yams")]),
        // The step-graph engine: scheduler, limits, retries, approvals gate, dry-run, Transport protocol.
        .target(name: "Engine", dependencies: ["DrctlCore", "ESXi", "RunbookFormat"]),
        // The record of a run: its directory, the JSON Lines journal, outputs kept in full.
        .target(name: "Journal", dependencies: ["DrctlCore", "RunbookFormat", "Engine", .product(name: "Crypto", package: "swift-crypto")]),
        // A stateful fake of an ESXi fleet: model, command interpreter, faults, scenarios.
        .target(name: "Simulator", dependencies: ["DrctlCore", "ESXi", "RunbookFormat", "Engine", .product(name: "Yams", package: "Yams")]),
        // libssh2 1.10 from Debian's libssh2-1-dev.
        .systemLibrary(name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // The SSH transport: one libssh2 session per host on a thread of its own.
        .target(name: "SSHTransport", dependencies: ["CLibSSH2", "DrctlCore", "RunbookFormat", "Engine", .product(name: "Crypto", package: "swift-crypto")]),
        // Keeps secrets out of core dumps (prctl is variadic: Swift needs a line of C for it).
        .target(name: "CProcessHardening"),
        // The commands of the drctl CLI, one per file.
        .target(name: "DrctlCLI", dependencies: [
            "DrctlCore", "ESXi", "RunbookFormat", "Engine", "Journal", "Simulator", "SSHTransport", "CProcessHardening",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Rainbow", package: "Rainbow"),
        ]),
        .executableTarget(name: "drctl", dependencies: ["DrctlCLI"]),
        // `make bench`: the engine's own overhead and validation speed, measured, not asserted.
        // Inputs from outside, for `make fuzz` (libFuzzer) and the corpus replay in `make test`.
        .target(name: "FuzzTargets", dependencies: ["DrctlCore", "ESXi", "RunbookFormat", "Simulator"]),
        .executableTarget(name: "drctl-fuzz", dependencies: ["FuzzTargets"]),
        .executableTarget(name: "drctl-bench", dependencies: ["DrctlCore", "RunbookFormat", "Engine", "Journal", "SSHTransport", "Simulator"]),

        .testTarget(name: "DrctlCoreTests", dependencies: ["DrctlCore"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "ESXiTests", dependencies: ["ESXi"]),
        // Yams: the parity test reads every YAML file both ways.
        .testTarget(name: "RunbookFormatTests", dependencies: ["RunbookFormat", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "RunbookFormat"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "Engine", "RunbookFormat"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "ESXi", "Engine", "RunbookFormat"]),
        .testTarget(name: "DrctlCLITests", dependencies: ["DrctlCLI"]),
        .testTarget(name: "SSHTransportTests", dependencies: ["SSHTransport", "Engine", "RunbookFormat", "Simulator", "Journal"]),
    ]
)
