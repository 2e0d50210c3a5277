import Foundation

/// How a command given up on is stopped on the host. sshd makes each command's shell a session
/// leader, so its PID is its process group: the command reports it on stderr first, then runs in
/// its place (`exec`), and a timed-out command's group is sent TERM from a second channel.
public enum ProcessGroup {
    public static let marker = "drctl-process-group:"

    /// `echo MARKER$$ >&2; exec /bin/sh -c 'COMMAND'`: the same command, its exit status kept.
    public static func wrap(_ command: String) -> String {
        "echo \(marker)$$ >&2; exec /bin/sh -c \(ShellQuote.quote(command))"
    }

    /// The group and the rest of stderr, once the marker line is complete; nil before that.
    public static func split(_ stderr: Data) -> (Int, Data)? {
        guard let newline = stderr.firstIndex(of: 0x0A) else { return nil }
        let line = String(decoding: stderr[stderr.startIndex..<newline], as: UTF8.self)
        guard line.hasPrefix(marker), let group = Int(line.dropFirst(marker.count)), group > 1 else { return nil }
        return (group, Data(stderr[stderr.index(after: newline)...]))
    }

    /// TERM to the whole group (the command and what it started), and to the shell itself.
    public static func stop(_ group: Int) -> String {
        "kill -15 -\(group) 2>/dev/null; kill -15 \(group) 2>/dev/null; true"
    }

    /// The command inside `wrap`'s line, for a host that runs one fixed program (the simulator
    /// behind sshd's ForceCommand), which answers it without the marker; nil for any other line.
    public static func unwrap(_ line: String) -> String? {
        let prefix = "echo \(marker)$$ >&2; exec /bin/sh -c "
        guard line.hasPrefix(prefix) else { return nil }
        let quoted = String(line.dropFirst(prefix.count))
        guard quoted.hasPrefix("'"), quoted.hasSuffix("'"), quoted.count >= 2 else { return quoted }
        return String(quoted.dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
    }
}
