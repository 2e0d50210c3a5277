import RunbookFormat
@testable import Simulator
import Testing

/// A scenario with a mistake is refused with file:line:col, never drilled with a check that
/// silently means something else (fuzz findings `cli-accepted-invalid-scenario-*`).
@Suite("scenario input errors")
struct ScenarioInputTests {
    func problems(_ yaml: String) -> [String] {
        do {
            _ = try ScenarioLoader.load(text: yaml, file: "s.yaml")
            return []
        } catch let invalid as InvalidInput {
            return invalid.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test("two hosts, datastores or VMs of one name are refused, at the second")
    func duplicates() {
        let found = problems("""
        scenario: s
        hosts:
          - { name: h1 }
          - { name: h1 }
        datastores:
          - { name: ds1 }
          - { name: ds1 }
        vms:
          - { name: v1, datastore: ds1, host: h1 }
          - { name: v1, datastore: ds1, host: h1 }
        """)
        #expect(found == ["4:5: a second host named 'h1': give each host its own name",
                          "7:5: a second datastore named 'ds1': give each datastore its own name",
                          "10:5: a second vm named 'v1': give each vm its own name"])
    }

    @Test("a host name no ESXi host can have, and a datastore with more free than capacity, are refused")
    func impossibleValues() {
        let found = problems("""
        scenario: s
        hosts:
          - { name: "e2'$(touch pwned)'" }
        datastores:
          - { name: ds1, capacity_gb: 100, free_gb: 200 }
        """)
        #expect(found.count == 2)
        #expect(found.first?.hasPrefix("3:13: host name 'e2'$(touch pwned)'' holds ") == true, "\(found)")
        #expect(found.last == "5:5: datastore 'ds1' has more free (200 GB) than its capacity (100 GB): free_gb must be at most capacity_gb")
    }

    @Test("an expectation's misspelt value or unknown object is refused, not read as no check")
    func expectationTypos() {
        let found = problems("""
        scenario: s
        hosts:
          - { name: h1 }
        datastores:
          - { name: ds1 }
        vms:
          - { name: v1, datastore: ds1, host: h1, power: on }
        expect:
          - { vm: v1, power: onn }
          - { datastore: ds2, mounted_on: [h1] }
          - { host: h2, maintenance: false }
          - { vcenter: runing }
        """)
        #expect(found == ["9:22: power must be on, off or suspended (did you mean 'on'?), not 'onn'",
                          "10:18: no datastore 'ds2' in this scenario (did you mean 'ds1'?)",
                          "11:13: no host 'h2' in this scenario (did you mean 'h1'?)",
                          "12:16: a service state is running or stopped"])
    }

    @Test("a cycle among the VMs' dependencies is refused")
    func dependencyCycle() {
        let found = problems("""
        scenario: s
        hosts:
          - { name: h1 }
        datastores:
          - { name: ds1 }
        vms:
          - { name: a, datastore: ds1, depends_on: [b] }
          - { name: b, datastore: ds1, depends_on: [a] }
        """)
        #expect(found == ["7:5: vm dependencies form a cycle: a -> b -> a; no VM in it could ever start"])
    }
}
