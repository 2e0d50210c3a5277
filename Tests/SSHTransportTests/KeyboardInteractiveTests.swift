@testable import SSHTransport
import Testing

@Suite("keyboard-interactive prompts")
struct KeyboardInteractiveTests {
    @Test("only prompts that ask for a password get the password")
    func passwordPromptsOnly() {
        for prompt in ["Password: ", "root@esxi-01's password:", "Passwort: ", "Enter passphrase for key: "] {
            #expect(KeyboardInteractive.isPasswordPrompt(prompt), "\(prompt)")
        }
        for prompt in ["Verification code: ", "OTP: ", "Enter PASSCODE for RSA SecurID:", "Duo two-factor login (1-3): ", ""] {
            #expect(!KeyboardInteractive.isPasswordPrompt(prompt), "\(prompt)")
        }
    }
}
