import Foundation
import RunbookFormat

/// Secrets are masked wherever they appear, whatever their length. A short one is masked inside
/// ordinary words too (a password `root1` hides every `root1` in outputs), and it is weak: the
/// operator is told when the inventory is loaded, naming where the secret comes from, never it.
public enum SecretStrength {
    public static let minimumLength = 8

    /// One warning per host whose password or passphrase, readable now, is shorter than
    /// `minimumLength`. Secrets asked for at a prompt are checked when typed.
    public static func warnings(for inventory: Inventory, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        inventory.hosts.compactMap { host in
            guard let (source, length) = readableSecret(host.auth, environment: environment), length < minimumLength else { return nil }
            let place = host.location.map { "\($0): " } ?? "\(inventory.file): "
            return "\(place)warning: host \(host.name): \(source) is shorter than \(minimumLength) characters; "
                + "drctl masks it everywhere, also inside ordinary words of outputs. Use a longer secret."
        }
    }

    /// Where a host's secret comes from and its length, when it can be read without asking.
    static func readableSecret(_ auth: Inventory.Authentication, environment: [String: String]) -> (String, Int)? {
        switch auth {
        case .passwordEnvironment(let variable):
            guard let value = environment[variable], !value.isEmpty else { return nil }
            return ("the password in $\(variable)", value.count)
        case .keyFile(_, let variable?):
            guard let value = environment[variable], !value.isEmpty else { return nil }
            return ("the key passphrase in $\(variable)", value.count)
        case .passwordFile(let path):
            guard let text = try? String(contentsOfFile: expandHome(path), encoding: .utf8),
                  let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, !line.isEmpty else { return nil }
            return ("the password in \(path)", line.count)
        case .keyFile(_, nil), .prompt:
            return nil
        }
    }
}
