import DrctlCore
@testable import RunbookFormat
import Testing

/// A runbook that uses every key of the format at least once.
let everyKeyRunbook = """
runbook: every-key
title: Every key
description: Uses each key of the format.
rto: 15m
params:
  - name: host
    description: the host
    required: true
  - name: vms
    type: list
    default: [a, b]
  - name: force
    type: boolean
    default: false
limits:
  max_parallel: 8
  max_per_host: 2
steps:
  - id: alive
    title: Host answers
    probe:
      target: "{{ params.host }}"
      via: tcp
      port: 443
      expect: up
  - id: listing
    needs: alive
    on: "{{ params.host }}"
    mutates: false
    run: vim-cmd vmsvc/getallvms
    capture:
      vms: { parser: getallvms }
      first_id: '^(\\d+)\\s'
      all_ids: { regex: '^(\\d+)\\s', group: 1, all: true }
      lines: { lines: true }
    expect:
      exit: [0]
      stdout_contains: Vmid
      stdout_not_contains: [fault]
      stdout_matches: 'Name'
      stderr_empty: true
      that: "result.vms | count >= 0"
      message: "the listing is empty"
    set:
      names: "{{ result.vms | names }}"
      first: "{{ result.names | first }}"
    timeout: 30s
    retry: { attempts: 3, delay: 1s, backoff: 2, max_delay: 10s }
  - id: gate
    needs: [listing]
    approval:
      prompt: "Power on {{ params.vms | join(', ') }}?"
      show:
        found: "{{ steps.listing.vms | names | join(', ') }}"
  - id: register
    needs: [gate]
    foreach: "{{ params.vms }}"
    on: [esxi-02]
    when: "not params.force"
    action: vm.registervm
    with:
      vmx: "[ds1] {{ item }}/{{ item }}.vmx"
    on_failure: continue
    verify: true
  - id: power
    needs: [register]
    foreach: "{{ params.vms }}"
    order: priority
    barrier: true
    on: esxi-02
    action: vm.power.on
    with:
      vmid: "{{ steps.register.vmid }}"
      answer: moved
    on_failure: ask
  - id: settle
    needs: [power]
    on: esxi-02
    wait:
      action: vm.power.getstate
      with: { vmid: "1" }
      until: result.powered_on
      interval: 2s
      timeout: 1m
  - id: back
    needs: [settle]
    wait:
      probe: { target: "{{ params.host }}", via: tcp, port: 443 }
      until: result.reachable
      timeout: "{{ params.host | default('5m') | lower | default('5m') }}"
  - id: custom-verify
    needs: [back]
    on: esxi-02
    run: "touch /tmp/marker"
    verify:
      run: "test -e /tmp/marker"
      expect: { exit: 0 }
  - id: action-verify
    needs: [custom-verify]
    on: esxi-02
    action: host.maintenance.set
    with: { enabled: "false" }
    verify:
      action: host.maintenance.get
      that: "not result.enabled"
"""

@Suite("runbook keys")
struct RunbookKeysTests {
    @Test("a runbook using every key loads into the model")
    func everyKeyLoads() throws {
        let runbook = try RunbookLoader.load(text: everyKeyRunbook, file: "every.yaml")
        #expect(runbook.name == "every-key")
        #expect(runbook.title == "Every key")
        #expect(runbook.description == "Uses each key of the format.")
        #expect(runbook.rto == .seconds(900))
        #expect(runbook.params.map(\.name) == ["host", "vms", "force"])
        #expect(runbook.params[0].required)
        #expect(runbook.params[1].kind == .list && runbook.params[1].defaultValue == ["a", "b"])
        #expect(runbook.limits == Runbook.Limits(maxParallel: 8, maxPerHost: 2))

        let alive = try #require(runbook.step("alive"))
        guard case .probe(let aliveProbe) = alive.kind else { Issue.record("alive is not a probe"); return }
        #expect(aliveProbe.method == .tcp && aliveProbe.port == 443 && aliveProbe.expect == .up)

        let listing = try #require(runbook.step("listing"))
        #expect(listing.needs == ["alive"])
        #expect(!listing.mutates)
        #expect(listing.captures.map(\.name).sorted() == ["all_ids", "first_id", "lines", "vms"])
        #expect(listing.expect.stdoutContains == ["Vmid"] && listing.expect.stdoutNotContains == ["fault"])
        #expect(listing.expect.stderrEmpty && listing.expect.stdoutMatches == "Name" && listing.expect.that != nil)
        #expect(listing.timeout == .seconds(30))
        #expect(listing.retry == Retry(attempts: 3, delay: .seconds(1), backoff: 2, maxDelay: .seconds(10)))
        #expect(listing.expect.message == "the listing is empty")
        #expect(listing.set.map(\.name) == ["names", "first"])
        #expect(listing.outputNames.contains("first"))

        let back = try #require(runbook.step("back"))
        guard case .wait(let probeWait) = back.kind, case .probe(let probe) = probeWait.check else { Issue.record("back is not a probe wait"); return }
        #expect(probe.port == 443 && probeWait.timeoutTemplate != nil)

        let gate = try #require(runbook.step("gate"))
        guard case .approval(let approval) = gate.kind else { Issue.record("gate is not an approval"); return }
        #expect(approval.show.map(\.label) == ["found"])

        let register = try #require(runbook.step("register"))
        #expect(register.isFanOut && register.when != nil && register.onFailure == .continue && register.mutates)
        if case .builtIn? = register.verify {} else { Issue.record("register should use the built-in verify") }

        let power = try #require(runbook.step("power"))
        #expect(power.order == .priority && power.barrier && power.onFailure == .ask)

        let settle = try #require(runbook.step("settle"))
        guard case .wait(let wait) = settle.kind else { Issue.record("settle is not a wait"); return }
        #expect(wait.interval == .seconds(2) && wait.timeout == .seconds(60))
        #expect(!settle.mutates)

        if case .run? = runbook.step("custom-verify")?.verify {} else { Issue.record("custom-verify should verify with run") }
        if case .action? = runbook.step("action-verify")?.verify {} else { Issue.record("action-verify should verify with an action") }
    }

    @Test("mutates defaults: run and mutating actions true, read-only actions and probes false")
    func mutatesDefaults() throws {
        let runbook = try RunbookLoader.load(text: """
        runbook: m
        steps:
          - { id: a, on: h, run: "echo" }
          - { id: b, on: h, action: vm.getallvms }
          - { id: c, on: h, action: storage.rescan }
          - { id: d, probe: { target: h } }
        """, file: "m.yaml")
        #expect(runbook.steps.map(\.mutates) == [true, false, true, false])
    }
}
