@testable import RunbookFormat
import Testing

/// `goal:`, `fallback:`, `hand_off:` and typed params in the runbook format.
@Suite("goal and recovery keys")
struct GoalFormatTests {
    let steps = """
    runbook: g
    params:
      - { name: failed_host, type: host, required: true }
    steps:
      - { id: find, on: h1, run: find, mutates: false, capture: { vms: { lines: true } } }
      - id: restore
        needs: [find]
        approval: "Restore?"
        hand_off: "{{ steps.find.vms }}"
      - { id: register, needs: [find], on: [h1, h2], fallback: true, run: register }

    """

    @Test("a goal reads every step, its own reads, item and result")
    func valid() throws {
        let runbook = try RunbookLoader.load(text: steps + """
        goal:
          description: all back
          read:
            - { id: state, on: h1, action: vm.inventory }
          require:
            - each: "{{ steps.find.vms }}"
              set: { copies: "{{ steps.state.vms | where('name', item) }}" }
              holds: "result.copies | count == 1 and steps.register.host != null"
              shows: "{{ result.copies | count }} registrations"
        """, file: "g.yaml")
        #expect(runbook.goal?.read.map(\.id) == ["state"])
        #expect(runbook.goal?.require.count == 1)
        #expect(runbook.step("register")?.outputNames.contains("host") == true)
        #expect(runbook.step("restore")?.outputNames.contains("handed_off") == true)
        #expect(runbook.params[0].kind == .host)
    }

    @Test("goal reads only read, never fan out, never need; requirements need each and holds; references are checked")
    func invalid() {
        let found = problems(steps + """
        goal:
          read:
            - { id: change, on: h1, run: "reboot" }
            - { id: find, on: h1, action: vm.getallvms }
            - { id: many, foreach: [a], on: h1, action: vm.getallvms }
          require:
            - each: "{{ steps.nowhere.vms }}"
              holds: "item in steps.find.vmz"
            - { each: "{{ steps.find.vms }}" }
        """)
        #expect(found.contains { $0.contains("goal read 'change' changes the host") })
        #expect(found.contains { $0.contains("goal read id 'find' is already a step id") })
        #expect(found.contains { $0.contains("goal read 'many' cannot fan out") })
        #expect(found.contains { $0.contains("undefined variable steps.nowhere") })
        #expect(found.contains { $0.contains("step 'find' has no output 'vmz'") })
        #expect(found.contains { $0.contains("needs 'each' (the list to check) and 'holds'") })
    }

    @Test("hand_off belongs on an approval; fallback needs on:; params have known types")
    func misplaced() {
        let found = problems("""
        runbook: m
        params:
          - { name: x, type: hots }
        steps:
          - { id: a, on: h1, run: "true", hand_off: "{{ [] }}" }
          - { id: b, approval: "ok?", fallback: true }
        """)
        #expect(found.contains { $0.contains("hand_off names what a manual step takes over, so it belongs on an approval") })
        #expect(found.contains { $0.contains("type must be one of text, number, boolean, list, host, datastore, vm (did you mean 'host'?)") })
        #expect(found.contains { $0.contains("fallback tries the hosts of on: in order") })
    }
}
