import Foundation
@testable import RunbookFormat
import Testing

/// Loads a runbook expected to be invalid and returns its diagnostics as `line:col: message`.
func problems(_ yaml: String) -> [String] {
    do {
        _ = try RunbookLoader.load(text: yaml, file: "bad.yaml")
        return []
    } catch let invalid as InvalidInput {
        return invalid.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    } catch {
        return ["unexpected \(error)"]
    }
}

/// Loads an inventory expected to be invalid and returns its diagnostics as `line:col: message`.
func inventoryProblems(_ yaml: String) -> [String] {
    do {
        _ = try InventoryLoader.load(text: yaml, file: "site.yaml")
        return []
    } catch let invalid as InvalidInput {
        return invalid.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    } catch {
        return ["\(error)"]
    }
}

@Suite("validation errors name file:line:col")
struct ValidationTests {
    @Test("unknown keys, with a suggestion")
    func unknownKey() {
        let found = problems("""
        runbook: r
        steps:
          - id: a
            on: h
            rnu: echo
            run: echo
        """)
        #expect(found == ["5:5: unknown key 'rnu' in a step (did you mean 'run'?)"])
    }

    @Test("an unknown top-level key")
    func unknownTopLevel() {
        #expect(problems("runbook: r\ntitel: x\nsteps: []\n") == ["2:1: unknown key 'titel' in the runbook (did you mean 'title'?)"])
    }

    @Test("a missing id")
    func missingID() {
        let found = problems("runbook: r\nsteps:\n  - on: h\n    run: echo\n")
        #expect(found.count == 1 && found[0].hasPrefix("3:5: a step has no 'id'"))
    }

    @Test("duplicate ids point at the second and name the first")
    func duplicateIDs() {
        let found = problems("""
        runbook: r
        steps:
          - { id: a, on: h, run: echo }
          - id: a
            on: h
            run: echo
        """)
        #expect(found == ["4:5: duplicate step id 'a' (first used at line 3): ids must be unique"])
    }

    @Test("needs naming no step")
    func unknownNeed() {
        let found = problems("""
        runbook: r
        steps:
          - { id: discover, on: h, run: echo }
          - id: b
            needs: [dicsover]
            on: h
            run: echo
        """)
        #expect(found == ["5:5: step 'b' needs 'dicsover', but no step has that id (did you mean 'discover'?)"])
    }

    @Test("cycles are printed")
    func cycle() {
        let found = problems("""
        runbook: r
        steps:
          - { id: a, needs: [c], on: h, run: echo }
          - { id: b, needs: [a], on: h, run: echo }
          - { id: c, needs: [b], on: h, run: echo }
        """)
        #expect(found.count == 1)
        #expect(found[0].contains("a -> c -> b -> a"))
        #expect(found[0].hasPrefix("3:"))
    }

    @Test("undefined template variables: params, steps, outputs, item, roots")
    func undefinedVariables() {
        let found = problems("""
        runbook: r
        params:
          - name: host
        steps:
          - id: a
            on: "{{ params.hots }}"
            run: "echo {{ item }}"
          - id: b
            needs: [a]
            on: h
            run: "echo {{ steps.a.vsm }} {{ steps.zz.x }} {{ hosts }}"
          - id: c
            on: h
            run: "echo {{ steps.a.stdout }}"
        """)
        #expect(found.contains("6:9: undefined variable params.hots: declare it under params: (did you mean 'host'?)"))
        #expect(found.contains("7:10: 'item' is only defined in a step with foreach, and step 'a' has none"))
        #expect(found.contains { $0.hasPrefix("11:10: step 'a' has no output 'vsm'") })
        #expect(found.contains { $0.hasPrefix("11:10: undefined variable steps.zz") })
        #expect(found.contains { $0.hasPrefix("11:10: undefined variable 'hosts'") })
        #expect(found.contains("14:10: step 'c' uses steps.a but does not need 'a' (directly or through other steps): add it to needs"))
    }

    @Test("unknown actions and missing action arguments")
    func unknownAction() {
        let found = problems("""
        runbook: r
        steps:
          - id: a
            on: h
            action: vm.power.onn
          - id: b
            on: h
            action: vm.power.on
            with: { vmidd: 3 }
        """)
        #expect(found.contains { $0.hasPrefix("5:13: unknown action 'vm.power.onn' (did you mean 'vm.power.on'?)") })
        #expect(found.contains("9:13: unknown key 'vmidd' in with (the arguments of vm.power.on) (did you mean 'vmid'?)"))
        #expect(found.contains { $0.hasPrefix("9:11: action vm.power.on needs 'vmid'") })
    }

    @Test("wrong types")
    func wrongTypes() {
        let found = problems("""
        runbook: r
        rto: soon
        steps:
          - id: a
            on: h
            run: echo
            retry: { attempts: many }
            timeout: [1]
            barrier: maybe
            needs: { x: y }
        """)
        #expect(found.contains("2:6: rto must be a duration such as 30s, 5m or 1h30m, not 'soon'"))
        #expect(found.contains("7:24: attempts must be a whole number, not 'many'"))
        #expect(found.contains("8:14: timeout must be a duration such as 30s, 5m or 1h30m, not a list"))
        #expect(found.contains("9:14: barrier must be true or false, not 'maybe'"))
        #expect(found.contains("10:12: needs must be a list, not a mapping"))
    }

    @Test("timeouts, wait intervals and the RTO must be longer than 0s")
    func zeroDurations() {
        let found = problems("""
        runbook: r
        rto: 0s
        steps:
          - id: a
            on: h
            run: echo
            timeout: 0s
          - id: b
            on: h
            wait: { run: echo, until: "true", interval: 0m, timeout: 0h }
        """)
        #expect(found == ["2:6: rto must be longer than 0s, such as 30s or 5m, not '0s'",
                          "7:14: timeout must be longer than 0s, such as 30s or 5m, not '0s'",
                          "10:49: interval must be longer than 0s, such as 30s or 5m, not '0m'",
                          "10:62: timeout must be longer than 0s, such as 30s or 5m, not '0h'"])
    }

    @Test("hosts named outright must be in the inventory; hosts from expressions are left to the run")
    func hostsAgainstInventory() throws {
        let runbook = try RunbookLoader.load(text: """
        runbook: r
        steps:
          - { id: a, on: esxi-09, action: vm.getallvms }
          - { id: b, on: [esxi-01, nope], action: vm.getallvms }
          - { id: c, on: "{{ inventory.esxi_hosts }}", action: vm.getallvms }
          - { id: d, on: esxi-01, action: vm.getallvms }
        """, file: "r.yaml")
        let inventory = Inventory(hosts: [Inventory.Host(name: "esxi-01", address: "10.0.0.11")])
        #expect(RunbookValidator.checkHosts(of: runbook, against: inventory).map(\.description) == [
            "r.yaml:3:18: step 'a' runs on host 'esxi-09', which is not in the inventory (did you mean 'esxi-01'?): add it there or fix the name",
            "r.yaml:4:18: step 'b' runs on host 'nope', which is not in the inventory: add it there or fix the name",
        ])
    }

    @Test("exactly one of run, action, approval, probe, wait")
    func oneKind() {
        #expect(problems("runbook: r\nsteps:\n  - { id: a, on: h }\n") == ["3:5: step 'a' needs exactly one of run, action, approval, probe or wait"])
        let both = problems("runbook: r\nsteps:\n  - id: a\n    on: h\n    run: echo\n    action: vm.getallvms\n")
        #expect(both == ["6:5: step 'a' has both 'run' and 'action': a step does exactly one thing; split it in two"])
    }

    @Test("template syntax errors point into the template")
    func templateSyntax() {
        let found = problems("runbook: r\nsteps:\n  - { id: a, on: h, run: \"echo {{ params. }}\" }\n")
        #expect(found.count == 1 && found[0].hasPrefix("3:26: run: in '{{ params. }}'"))
    }

    @Test("YAML syntax errors")
    func yamlSyntax() {
        let found = problems("runbook: r\nsteps:\n  - id: a\n   on: [h\n")
        #expect(found.count == 1 && found[0].contains("YAML syntax error"))
        #expect(found.first?.hasSuffix("(a list item is indented differently from the items before it)") == true, "libyaml's wording gets its usual cause")
        #expect(problems("runbook: r\nsteps:\n  - id: a\n    on: h\n    run: echo: x\n")
                == ["5:14: YAML syntax error: mapping values are not allowed in this context (a value holds ': ' or a key is indented too far; quote the value or align the key)"])
    }

    @Test("a duplicate key is pointed at where it is written again, block and flow alike")
    func duplicateKeys() {
        #expect(problems("runbook: r\nrunbook: s\nsteps: []\n") == ["2:1: duplicate key 'runbook' in one mapping (first at line 1): keep only one"])
        #expect(problems("runbook: r\nsteps:\n  - { id: a, on: h, run: echo, id: b }\n") == ["3:32: duplicate key 'id' in one mapping (first at line 3): keep only one"])
    }

    @Test("a whole number that is only too large says so")
    func tooLarge() {
        let found = problems("runbook: r\nsteps:\n  - id: a\n    on: h\n    run: echo\n    retry: { attempts: 99999999999999999999999 }\n")
        #expect(found == ["6:24: attempts must be between 1 and 100, not '99999999999999999999999'"])
    }

    @Test("a file that is not UTF-8 names the byte, as line:col")
    func notUTF8() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-latin1-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("runbook: r\nsteps:\n  - { id: caf".utf8 + [0xE9] + Array(" }\n".utf8)).write(to: URL(fileURLWithPath: path))
        #expect(throws: InvalidInput.self) { try RunbookLoader.load(path: path) }
        do { _ = try RunbookLoader.load(path: path) } catch let invalid as InvalidInput {
            #expect(invalid.diagnostics.map(\.description) == ["\(path):3:14: the runbook is not UTF-8 text: the byte at offset 31 (0xe9) is not valid UTF-8; save the file as UTF-8"])
        }
    }

    @Test("every problem is reported, in file order")
    func allProblems() {
        let found = problems("runbook: r\nsteps:\n  - { id: a, on: h, run: echo, nope: 1 }\n  - { id: b, needs: [zz], on: h, run: echo }\n")
        #expect(found.count == 2)
        #expect(found[0].hasPrefix("3:") && found[1].hasPrefix("4:"))
    }
}

@Suite("YAML aliases")
struct AliasLimitTests {
    @Test("a few anchors and aliases are fine; more than 32 aliases are refused before the YAML library expands them, naming the place")
    func aliasLimit() throws {
        let shared = "runbook: r\nsteps:\n  - id: a\n    on: [esxi-01]\n    run: &cmd \"vim-cmd vmsvc/getallvms\"\n  - id: b\n    on: [esxi-01]\n    run: *cmd\n"
        _ = try RunbookLoader.load(text: shared, file: "ok.yaml")
        var bomb = "runbook: x\n_0: &a0 [\"lol\",\"lol\",\"lol\"]\n"
        for level in 1...12 { bomb += "_\(level): &a\(level) [*a\(level - 1),*a\(level - 1),*a\(level - 1)]\n" }
        do {
            _ = try RunbookLoader.load(text: bomb, file: "bomb.yaml")
            Issue.record("an alias bomb was accepted")
        } catch let invalid as InvalidInput {
            #expect(invalid.description.contains("bomb.yaml:13:") && invalid.description.contains("more than 32 aliases"), "\(invalid)")
        }
        // The column is counted in characters, whatever precedes the alias on its line.
        let wide = "runbook: x\n_0: &a0 [1]\n" + (1...33).map { "_\($0): { ré: \"é*\", v: *a0 }\n" }.joined()
        #expect(throws: InvalidInput.self) { try RunbookLoader.load(text: wide, file: "wide.yaml") }
        do { _ = try RunbookLoader.load(text: wide, file: "wide.yaml") } catch let invalid as InvalidInput {
            #expect(invalid.description.contains("wide.yaml:35:21:"), "\(invalid)")
        }
        // A `*` inside a value or a quoted string is not an alias.
        let globs = "runbook: r\nsteps:\n" + (1...40).map { "  - { id: s\($0), on: [esxi-01], run: \"ls /vmfs/volumes/*/x*.vmx\" }\n" }.joined()
        _ = try RunbookLoader.load(text: globs, file: "globs.yaml")
    }
}

@Suite("approval keys")
struct ApprovalKeyTests {
    @Test("timeout and on_timeout go together; on_timeout is deny, continue or abort; approvers is a list of names")
    func approvalKeys() throws {
        let head = "runbook: r\nsteps:\n  - id: gate\n    approval:\n      prompt: Go?\n"
        #expect(problems(head + "      timeout: 5m\n") == ["5:7: an approval with a timeout needs on_timeout: deny, continue or abort (what happens when nobody decides)"])
        #expect(problems(head + "      on_timeout: deny\n") == ["6:19: on_timeout needs a timeout: how long to wait for a decision"])
        #expect(problems(head + "      timeout: 5m\n      on_timeout: dney\n") == ["7:19: on_timeout must be deny, continue or abort (did you mean 'deny'?)"])
        #expect(problems(head + "      timeout: 0s\n      on_timeout: deny\n").first?.contains("6:16") == true)
        let runbook = try RunbookLoader.load(text: head + "      timeout: 5m\n      on_timeout: abort\n      approvers: [alice, bob]\n      distinct_from_operator: true\n", file: "ok.yaml")
        guard case .approval(let approval) = runbook.steps[0].kind else { Issue.record("not an approval"); return }
        #expect(approval.timeout == .seconds(300) && approval.onTimeout == .abort && approval.approvers == ["alice", "bob"] && approval.distinctFromOperator)
    }
}
