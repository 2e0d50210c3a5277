import Engine
import Foundation
import RunbookFormat
@testable import SSHTransport
import Testing

@Suite("short secrets")
struct SecretStrengthTests {
    @Test("secrets of every length are masked, a longer one containing a shorter one masked whole")
    func everyLength() {
        let redactor = Redactor()
        for secret in ["x9", "pw1", "root1", "root1-longer"] { redactor.register(secret) }
        let text = redactor.redact("login x9 with pw1, root1 and root1-longer")
        #expect(text == "login [redacted] with [redacted], [redacted] and [redacted]")
        #expect(!text.contains("longer"))
    }

    @Test("a password or passphrase shorter than 8 characters is warned about, naming where it comes from, never it")
    func warnings() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-short-\(UUID().uuidString)").path
        try "abc12\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let text = """
            hosts:
              - {name: esxi-01, address: 10.0.0.1, auth: {password_env: SHORT_PW}}
              - {name: esxi-02, address: 10.0.0.2, auth: {password_env: LONG_PW}}
              - {name: esxi-03, address: 10.0.0.3, auth: {password_file: \(file)}}
              - {name: esxi-04, address: 10.0.0.4, auth: {key_file: /k, passphrase_env: SHORT_PP}}
              - {name: esxi-05, address: 10.0.0.5, auth: {prompt: true}}
              - {name: esxi-06, address: 10.0.0.6, auth: {password_env: UNSET_PW}}
            """
        let inventory = try InventoryLoader.load(text: text, file: "site.yaml")
        let warnings = SecretStrength.warnings(for: inventory, environment: ["SHORT_PW": "s3cr3t", "LONG_PW": "long-enough-pw", "SHORT_PP": "pp"])
        #expect(warnings.count == 3)
        #expect(warnings[0].hasPrefix("site.yaml:2:") && warnings[0].contains("esxi-01") && warnings[0].contains("$SHORT_PW"))
        #expect(warnings[1].hasPrefix("site.yaml:4:") && warnings[1].contains("esxi-03") && warnings[1].contains(file))
        #expect(warnings[2].hasPrefix("site.yaml:5:") && warnings[2].contains("passphrase") && warnings[2].contains("$SHORT_PP"))
        #expect(!warnings.joined().contains("s3cr3t") && !warnings.joined().contains("abc12"))
    }
}
