import Foundation

/// Who runs drctl, as the operating system knows them: the account of the effective user id, and
/// the account that ran sudo when drctl runs through it. Never `$USER`, which anyone can set.
/// A name given with `--operator` is recorded beside the account, never instead of it.
public struct OperatorIdentity: Sendable, Equatable, CustomStringConvertible {
    public var account: String
    /// `SUDO_USER`, when drctl runs as root through sudo.
    public var sudoUser: String?

    public static var current: OperatorIdentity {
        let uid = geteuid()
        let account = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid \(uid)"
        // sudo sets SUDO_USER; only a process that is root can have come through it.
        let sudo = uid == 0 ? ProcessInfo.processInfo.environment["SUDO_USER"].flatMap { $0.isEmpty || $0 == account ? nil : $0 } : nil
        return OperatorIdentity(account: account, sudoUser: sudo)
    }

    public init(account: String, sudoUser: String? = nil) {
        self.account = account
        self.sudoUser = sudoUser
    }

    /// The person: who ran sudo, else the account. What `approvers:` lists.
    public var person: String { sudoUser ?? account }

    /// `alice`, or `root (sudo by alice)`.
    public var description: String { account + (sudoUser.map { " (sudo by \($0))" } ?? "") }
}
