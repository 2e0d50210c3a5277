import Engine
import Foundation
import RunbookFormat

/// A secret read at connect time from where the inventory says, never from the command line.
/// It lives only in memory; error messages name where it came from, never its value.
enum Credential {
    case key(path: String, passphrase: String?)
    case password(String)

    /// Resolves a host's authentication reference.
    static func resolve(_ auth: Inventory.Authentication, for host: Inventory.Host, prompt: PasswordPrompt) throws -> Credential {
        switch auth {
        case .keyFile(let path, let passphraseVariable):
            let expanded = expandHome(path)
            guard FileManager.default.isReadableFile(atPath: expanded) else {
                throw TransportError(.authenticationFailed, host: host.name, detail: "cannot read the key file \(path)", hint: "check auth.key_file in the inventory")
            }
            var passphrase: String?
            if let passphraseVariable {
                guard let value = ProcessInfo.processInfo.environment[passphraseVariable] else {
                    throw TransportError(.authenticationFailed, host: host.name, detail: "environment variable \(passphraseVariable) (the key's passphrase) is not set",
                                         hint: "export it before running drctl")
                }
                passphrase = value
            }
            return .key(path: expanded, passphrase: passphrase)
        case .passwordEnvironment(let variable):
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw TransportError(.authenticationFailed, host: host.name, detail: "environment variable \(variable) (the password) is not set",
                                     hint: "export it before running drctl")
            }
            return .password(value)
        case .passwordFile(let path):
            let expanded = expandHome(path)
            guard let text = try? String(contentsOfFile: expanded, encoding: .utf8),
                  let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, !line.isEmpty else {
                throw TransportError(.authenticationFailed, host: host.name, detail: "cannot read a password from \(path)", hint: "check auth.password_file in the inventory")
            }
            return .password(String(line))
        case .prompt:
            guard let value = prompt.password(for: host) else {
                throw TransportError(.authenticationFailed, host: host.name, detail: "no password given (no terminal to ask on)",
                                     hint: "use auth password_env, password_file or key_file for unattended runs")
            }
            return .password(value)
        }
    }

    /// The secret to mask in records: a password or a key's passphrase.
    var secret: String? {
        switch self {
        case .key(_, let passphrase): return passphrase
        case .password(let password): return password
        }
    }

}

func expandHome(_ path: String) -> String {
    guard path.hasPrefix("~/") else { return path }
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return home + path.dropFirst(1)
}

/// Asks for a password on the terminal with echo off, once per host.
public final class PasswordPrompt: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: String] = [:]

    public init() {}

    func password(for host: Inventory.Host) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if let known = answers[host.name] { return known }
        let tty = open("/dev/tty", O_RDWR)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        let question = "Password for \(host.user)@\(host.name) (\(host.address)): "
        _ = question.withCString { write(tty, $0, strlen($0)) }
        var settings = termios()
        tcgetattr(tty, &settings)
        var silent = settings
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSANOW, &silent)
        defer {
            tcsetattr(tty, TCSANOW, &settings)
            _ = write(tty, "\n", 1)
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != 10, byte != 13 { bytes.append(byte) }
        let answer = String(decoding: bytes, as: UTF8.self)
        if !answer.isEmpty, answer.count < SecretStrength.minimumLength {
            let warning = "\nwarning: this password is shorter than \(SecretStrength.minimumLength) characters; drctl masks it everywhere, also inside ordinary words of outputs."
            _ = warning.withCString { write(tty, $0, strlen($0)) }
        }
        answers[host.name] = answer
        return answer
    }
}
