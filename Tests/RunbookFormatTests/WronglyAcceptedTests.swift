import Foundation
@testable import RunbookFormat
import Testing

/// Input that was once accepted although it is wrong: each gets one file:line:col error.
@Suite("input once wrongly accepted")
struct WronglyAcceptedTests {
    @Test("an inventory host with two ways to log in is refused, naming both")
    func twoAuthMethods() {
        let found = inventoryProblems("""
        hosts:
          - name: esxi-01
            address: 10.0.0.1
            auth: { password_env: ESXI_PW, key_file: ~/.ssh/id }
        """)
        #expect(found == ["4:11: auth gives key_file and password_env: give one way to log in (key_file, password_env, password_file or prompt)"])
        let passphraseAlone = inventoryProblems("hosts:\n  - { name: e1, address: 10.0.0.1, auth: { password_env: P, passphrase_env: Q } }\n")
        #expect(passphraseAlone == ["2:42: passphrase_env unlocks a key_file: give the key_file too, or drop passphrase_env"])
    }

    @Test("host names no ESXi host can have are refused: quotes, $(, backticks, blanks, newlines, non-ASCII",
          arguments: ["e2'$(touch pwned)'", "e2`id`", "esxi 01", "esxi\n01", "esxi;01", "ésxi", "e\"2"])
    func hostileHostName(_ name: String) throws {
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        let found = inventoryProblems("hosts:\n  - name: \"\(escaped)\"\n    address: 10.0.0.1\n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("2:11: host name ") == true, "\(found)")
        #expect(found.first?.hasSuffix("which no ESXi host name can: use letters, digits, '-', '.' and '_'") == true)
        #expect(HostName.problem("esxi-01.site_a.example") == nil)
    }

    @Test("a number param whose default is not a number is refused; a boolean's too")
    func paramDefaults() {
        let found = problems("""
        runbook: r
        params:
          - { name: max_vms, type: number, default: fifty }
          - { name: force, type: boolean, default: maybe }
          - { name: fine, type: number, default: 50 }
        steps:
          - { id: a, on: h, run: "true" }
        """)
        #expect(found == ["3:45: param 'max_vms' is a number, but its default 'fifty' is not a number: write one, such as 50",
                          "4:44: param 'force' is a boolean, but its default 'maybe' is not true or false"])
    }

    @Test("a UTF-8 byte-order mark is no content (YAML allows it)")
    func byteOrderMark() throws {
        let runbook = try RunbookLoader.load(text: "\u{FEFF}runbook: r\nsteps:\n  - { id: a, on: h, run: \"true\" }\n", file: "bom.yaml")
        #expect(runbook.name == "r")
        #expect(problems("\u{FEFF}runbook: r\nsteps: []\ntitel: x\n") == ["3:1: unknown key 'titel' in the runbook (did you mean 'title'?)"],
                "places after the mark are as an editor shows them")
    }
}
