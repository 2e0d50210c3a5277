import DrctlCore
@testable import RunbookFormat
import Testing

@Suite("templates and conditions")
struct TemplateTests {
    let scope = DictionaryScope([
        "params": ["host": "esxi-01", "vms": ["db-01", "web; reboot"], "skip": ["db-01"]],
        "item": ["name": "$(id)", "vmid": 12, "priority": 1],
        "steps": ["find": ["vms": .list([["name": "a", "vmid": 1, "host": "h1"], ["name": "b", "vmid": 2, "host": "h2"]])]],
    ])

    @Test("commands quote every value; hostile names arrive as one argument")
    func quoting() throws {
        let command = try Template("vim-cmd vmsvc/power.on {{ item.vmid }} # {{ item.name }}").shellCommand(in: scope)
        #expect(command.text == "vim-cmd vmsvc/power.on 12 # '$(id)'")
        let list = try Template("echo {{ params.vms }}").shellCommand(in: scope)
        #expect(list.text == "echo db-01 'web; reboot'")
    }

    @Test("| raw opts out of quoting")
    func raw() throws {
        let command = try Template("{{ params.host | raw }} && echo").shellCommand(in: scope)
        #expect(command.text == "esxi-01 && echo")
    }

    @Test("a lone placeholder keeps its type; mixed text becomes text")
    func typedValues() throws {
        #expect(try Template("{{ params.vms }}").value(in: scope) == ["db-01", "web; reboot"])
        #expect(try Template("[ds1] {{ params.host }}.vmx").value(in: scope) == "[ds1] esxi-01.vmx")
    }

    @Test("filters")
    func filters() throws {
        func eval(_ text: String) throws -> Value { try ExpressionEvaluator.evaluate(try ExpressionParser.parse(text), in: scope) }
        #expect(try eval("steps.find.vms | names") == ["a", "b"])
        #expect(try eval("steps.find.vms | where('host', 'h2') | names") == ["b"])
        #expect(try eval("params.vms | exclude(params.skip)") == ["web; reboot"])
        #expect(try eval("steps.find.vms | exclude(['a'])  | map('vmid')") == [2])
        #expect(try eval("params.vms | join(', ')") == "db-01, web; reboot")
        #expect(try eval("params.vms | count") == 2)
        #expect(try eval("params.missing | default('x')") == "x")
        #expect(try eval("params.host | default('x')") == "esxi-01")
        #expect(try eval("params.host | upper") == "ESXI-01")
        #expect(try eval("steps.find.vms | sort('vmid') | last") == ["name": "b", "vmid": 2, "host": "h2"])
        #expect(try eval("steps.find.vms | first | keys") == ["host", "name", "vmid"])
        #expect(throws: EvaluationError.self) { try eval("params.host | nosuch") }
    }

    @Test("conditions: comparisons, in, contains, matches, and/or/not")
    func conditions() throws {
        func check(_ text: String) throws -> Bool? { try ExpressionEvaluator.condition(try ExpressionParser.parse(text), in: scope) }
        #expect(try check("item.vmid == 12") == true)
        #expect(try check("item.vmid == '12'") == true)
        #expect(try check("item.priority < 2 and params.host != 'x'") == true)
        #expect(try check("'db-01' in params.vms") == true)
        #expect(try check("'zz' not in params.vms") == true)
        #expect(try check("params.host contains 'esxi'") == true)
        #expect(try check("params.host matches '^esxi-[0-9]+$'") == true)
        #expect(try check("not (item.vmid > 100) or false") == true)
        #expect(try check("steps.find.vms | count == 2") == true)
    }

    @Test("values known only at run time stay as templates")
    func unknowns() throws {
        let later = DictionaryScope(["steps": ["register": ["vmid": .unknown("steps.register.vmid")]]])
        let command = try Template("vim-cmd vmsvc/power.on {{ steps.register.vmid }}").shellCommand(in: later)
        #expect(!command.isComplete)
        #expect(command.text == "vim-cmd vmsvc/power.on {{ steps.register.vmid }}")
        #expect(try ExpressionEvaluator.condition(try ExpressionParser.parse("steps.register.vmid > 0"), in: later) == nil)
    }

    @Test("errors say what is missing")
    func missingField() {
        #expect(throws: EvaluationError.self) {
            _ = try ExpressionEvaluator.evaluate(try ExpressionParser.parse("item.nmae"), in: scope)
        }
        do {
            _ = try ExpressionEvaluator.evaluate(try ExpressionParser.parse("item.nmae"), in: scope)
        } catch {
            #expect("\(error)".contains("did you mean 'name'"))
        }
    }
}

@Suite("inventory")
struct InventoryTests {
    @Test("a full inventory loads")
    func loads() throws {
        let inventory = try InventoryLoader.load(text: """
        known_hosts: ~/.ssh/known_hosts
        hosts:
          - name: esxi-01
            address: 10.0.0.11
            port: 2222
            user: root
            role: esxi
            auth: { key_file: ~/.ssh/id_ed25519, passphrase_env: KEY_PASS }
            host_key: "SHA256:abc"
            interfaces:
              - { name: vmk0, address: 10.0.0.11, purpose: management }
          - { name: esxi-02, address: 10.0.0.12, auth: { password_env: ESXI_PASS } }
          - { name: esxi-03, address: 10.0.0.13, auth: { password_file: /etc/drctl/pass } }
          - { name: vcsa, address: 10.0.0.5, role: vcsa, auth: prompt }
        datastores:
          - { name: ds-shared, uuid: 5f8b4c97-234dcc30, shared: true }
        vms:
          - { name: db-01, priority: 1, host: esxi-01, datastore: ds-shared, vmx: "[ds-shared] db-01/db-01.vmx", memory_mb: 8192 }
          - { name: app-01, priority: 2, depends_on: [db-01], anti_affinity: app }
        """, file: "site.yaml")
        #expect(inventory.hosts.count == 4)
        #expect(inventory.hosts[0].port == 2222 && inventory.hosts[0].interfaces.first?.name == "vmk0")
        #expect(inventory.hosts[0].auth == .keyFile(path: "~/.ssh/id_ed25519", passphraseEnvironment: "KEY_PASS"))
        #expect(inventory.hosts[1].auth == .passwordEnvironment("ESXI_PASS"))
        #expect(inventory.hosts[2].auth == .passwordFile("/etc/drctl/pass"))
        #expect(inventory.hosts[3].role == .vcsa && inventory.hosts[3].auth == .prompt)
        #expect(inventory.vm(named: "app-01")?.dependsOn == ["db-01"])
        #expect(inventory.templateValue["esxi_hosts"] == ["esxi-01", "esxi-02", "esxi-03"])
    }

    @Test("a literal secret is refused without echoing it")
    func literalSecret() {
        let found = inventoryProblems("hosts:\n  - name: h\n    address: 1.2.3.4\n    auth: { password: hunter2 }\n")
        #expect(found == ["4:13: 'password' would put a secret in the inventory: use auth with password_env, password_file, key_file or prompt instead"])
        #expect(!found.joined().contains("hunter2"))
    }

    @Test("bad roles, priorities, unknown dependencies and dependency cycles")
    func badValues() {
        let found = inventoryProblems("""
        hosts:
          - { name: h, address: 1.2.3.4, role: esx }
        vms:
          - { name: a, priority: 9 }
          - { name: b, depends_on: [c] }
          - { name: c, depends_on: [b] }
          - { name: d, depends_on: [zz] }
        """)
        #expect(found.contains("2:40: role must be esxi or vcsa (did you mean 'esxi'?)"))
        #expect(found.contains("4:26: priority must be between 1 and 5, not 9"))
        #expect(found.contains { $0.hasPrefix("7:5: vm 'd' depends on 'zz', which is not in vms") })
        #expect(found.contains { $0.hasPrefix("5:5: vm dependencies form a cycle: b -> c -> b") })
    }
}

@Suite("fuzzed templates")
struct FuzzedTemplateTests {
    @Test("digits of other scripts are refused with a message, never trapped on (٤ is a number to Unicode, not to Double)")
    func nonASCIIDigits() {
        #expect(throws: (any Error).self) { _ = try Template("{{ ٤ + 1 }}") }
        #expect(throws: (any Error).self) { _ = try Template("{{ item.count > ١٢ }}") }
        #expect((try? Template("{{ 12.5 }}")) != nil)
    }
}
