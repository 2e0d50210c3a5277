import Engine
import ESXi
import Foundation
import RunbookFormat
@testable import Simulator

/// A small fleet: three 8.0 hosts and one 6.5 host on shared storage, one VM per kind of trouble.
let sampleScenario = """
scenario: sample
description: test fleet
seed: 42
hosts:
  - { name: esxi-01, address: 10.0.0.11, vmks: [{ name: vmk0, address: 10.0.0.11 }, { name: vmk1, address: 10.1.0.11, portgroup: Storage, mtu: 9000 }] }
  - { name: esxi-02, address: 10.0.0.12, memory_mb: 65536 }
  - { name: esxi-03, address: 10.0.0.13, version: 6.5.0, build: "5969303" }
  - { name: esxi-04, address: 10.0.0.14, state: down }
datastores:
  - { name: ds-shared-01, capacity_gb: 2048, free_gb: 900 }
  - { name: ds-flaky, condition: APD, returns_after_rescans: 2, returns_as: snapshot, hosts: [esxi-01, esxi-02] }
  - { name: ds-local-04, hosts: [esxi-04] }
vms:
  - { name: db-01, datastore: ds-shared-01, host: esxi-04, power: on, memory_mb: 16384, priority: 1 }
  - { name: "web; reboot", datastore: ds-shared-01, host: esxi-01, power: off, guest_os: centos7_64Guest }
  - { name: app (old), datastore: ds-shared-01, priority: 2, depends_on: [db-01] }
  - { name: golden, datastore: ds-shared-01, template: true }
  - { name: stuck, datastore: ds-flaky, host: esxi-02, power: off }
vcenter: { vm: vcsa-01, host: vcsa, address: 10.0.0.5, services: stopped }
expect:
  - { vm: db-01, power: on, host_not: [esxi-04], registered: true }
  - { datastore: ds-flaky, mounted_on: [esxi-01] }
  - { vcenter: running }
"""

let vcsaVM = "  - { name: vcsa-01, datastore: ds-shared-01, host: esxi-02, power: on, memory_mb: 12288 }\n"

func sampleFleet(_ extra: String = "") throws -> Fleet {
    let text = sampleScenario.replacingOccurrences(of: "vcenter: {", with: vcsaVM + extra + "vcenter: {")
    return try ScenarioLoader.load(text: text, file: "sample.yaml").fleet
}

/// Runs one command against a fleet value, as a host.
func run(_ command: String, on host: String, _ fleet: inout Fleet) -> ShellOutput {
    SimulatedExecution.run(command, on: host, fleet: &fleet)
}
