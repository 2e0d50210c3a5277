import DrctlCore
import Engine
import Foundation
import RunbookFormat
import Simulator

/// One what-if: the site built from the inventory, one failure applied, the matching runbook run
/// against it in virtual time with ESXi's durations, approvals given. Nothing is journaled and no
/// real host is reached: the transport is the simulator.
struct WhatIf {
    struct Result {
        var failure: InventorySite.Failure
        var runbook: String
        /// VMs the failure takes away that should be running.
        var affected: [String]
        /// VMs that cannot be brought back, and why (no memory, no host mounting the datastore, anti-affinity, local disk).
        var cannotPlace: [(vm: String, why: String)]
        var prediction: RecoveryPrediction
        var outcome: RunSummary.Outcome
        /// Why the run failed, when it did: the first step that failed and its reason.
        var problem: String?
        /// The RTO verdict in words.
        var verdict: String {
            guard let rto = prediction.rto else { return "no RTO set" }
            if prediction.rtoMet == true { return "met (\(DurationText.format(prediction.total)) of \(DurationText.format(rto)))" }
            return prediction.total > rto ? "MISSED (\(DurationText.format(prediction.total)) > \(DurationText.format(rto)))"
                : "not met: the run ends \(outcome.rawValue) (\(DurationText.format(prediction.total)))"
        }
    }

    /// The runbook for a failure, and its parameters.
    static func runbook(for failure: InventorySite.Failure, in directory: String, inventory: Inventory) -> (path: String, params: [String: String]) {
        switch failure {
        case .host(let name): ("\(directory)/host-failure.yaml", ["failed_host": name])
        case .datastore(let name): ("\(directory)/datastore-failure.yaml", ["datastore": name])
        case .vcenter(let vm):
            ("\(directory)/vcenter-loss.yaml", ["vcenter": inventory.hosts.first { $0.role == .vcsa }?.name ?? "vcsa", "appliance_vm": vm])
        }
    }

    /// `verbose`: the simulated run's steps and commands on the console, as a drill shows them.
    /// `site`: the fleet as discovery found it (`--discover`), else built from the inventory.
    /// `inventoryValue`: the inventory as templates see it, built once for every failure.
    static func run(_ failure: InventorySite.Failure, runbook: Runbook, params: [String: Value], inventory: Inventory, inventoryValue: Value? = nil,
                    seed: UInt64, durations: CommandDurations, site: Fleet? = nil, verbose: Bool = false) async -> Result {
        var before = site ?? InventorySite.fleet(from: inventory, seed: seed)
        // The appliance is part of the site before it fails, so the failure stops its services too.
        if case .vcenter(let vm) = failure { before = InventorySite.withAppliance(before, inventory: inventory, appliance: vm) }
        let affected = affected(by: failure, in: before)
        // The failed site alone holds its VMs, so the simulator changes them in place rather than
        // copying them all (megabytes at 10,000 VMs) at its first registration.
        var fleet = InventorySite.scenario(from: inventory, failing: failure, seed: seed, durations: durations, site: before).fleet
        fleet.timing = durations
        let clock = VirtualClock()
        let transport = SimulatorTransport(simulator: FleetSimulator(fleet: fleet, connectTimeout: DrillCommand.connectTimeout, clock: clock))
        var options = RunOptions(runID: "whatif")
        options.clock = clock
        options.probeTimeout = .seconds(2)
        let engine = Engine(runbook: runbook, inventory: inventory, inventoryValue: inventoryValue, params: params, transport: transport,
                            gate: AutoApproveGate(approver: "whatif", reason: "what-if: approvals assumed given at once"),
                            observers: [transport] + (verbose ? [ConsoleReporter(verbose: true, dryRun: false, redactor: Redactor(patterns: runbook.redact))] : []),
                            options: options)
        let summary = await engine.run()
        return Result(failure: failure, runbook: runbook.name, affected: affected,
                      cannotPlace: unplaced(summary), prediction: RecoveryPrediction(runbook: runbook, summary: summary, inventory: inventory),
                      outcome: summary.outcome,
                      problem: summary.failures.first { $0.outcome.status == .failed }.map { "\($0.step)\($0.item.label.isEmpty ? "" : " [\($0.item.label)]"): \($0.outcome.reason ?? "failed")" })
    }

    /// The VMs running on what fails (the appliance, for vCenter), as the site was before.
    static func affected(by failure: InventorySite.Failure, in fleet: Fleet) -> [String] {
        let running = fleet.vms.lazy.filter { $0.power == .on }
        return switch failure {
        case .host(let name): Array(running.filter { $0.registration?.host == name }.map(\.name))
        case .datastore(let name): Array(running.filter { $0.datastore == name }.map(\.name))
        case .vcenter(let vm): [vm]
        }
    }

    /// Read from the run's outputs, whatever the runbook: a `placement` entry without a target
    /// host, and the `not_found` VMs (on no datastore a survivor mounts).
    static func unplaced(_ summary: RunSummary) -> [(vm: String, why: String)] {
        var found: [String: String] = [:]
        var order: [String] = []
        func note(_ name: String, _ why: String) {
            if found[name] == nil { order.append(name) }
            found[name] = why
        }
        for step in summary.steps {
            guard let outputs = step.items.first(where: { $0.outcome.isSuccess })?.outcome.outputs else { continue }
            for (key, value) in outputs {
                let entries: [Value] = switch value {
                case .list(let list): list
                case .map: [value]
                default: []
                }
                for entry in entries {
                    guard let name = entry["name"]?.text else { continue }
                    if key == "not_found" {
                        note(name, "not on any datastore a survivor mounts (\(entry["datastore"]?.text ?? "its datastore"))")
                    } else if entry["target_host"] == .null, let why = entry["placement"]?.text {
                        note(name, why)
                    }
                }
            }
        }
        return order.map { ($0, found[$0]!) }
    }
}
