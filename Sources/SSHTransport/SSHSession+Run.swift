import Foundation

extension SSHSession {
    /// A command on its way through the channel's life.
    final class Run {
        enum Phase {
            case opening
            case starting(OpaquePointer)
            case reading(OpaquePointer)
            case closing(OpaquePointer)
            case waitingClosed(OpaquePointer)
        }

        let request: Request
        var phase: Phase = .opening
        let stdout: OutputCollector
        let stderr: OutputCollector
        let started = Date()
        let clock = ContinuousClock.now
        /// Answered (result or error); removed from the running list.
        var done = false
        /// The process group the command reported on stderr before it started (`ProcessGroup`).
        var processGroup: Int?

        /// Opening a channel and starting its command use state libssh2 keeps per session.
        var isSettingUp: Bool {
            switch phase {
            case .opening, .starting: return true
            default: return false
            }
        }

        /// A probe whose channel has not opened yet.
        var isUnansweredProbe: Bool { request.isProbe && !done && isSettingUp }
        /// When libssh2 first asked the server for this channel: from then on the server owes an answer.
        var awaitingSince: ContinuousClock.Instant?

        init(_ request: Request, _ spooling: OutputSpooling) {
            self.request = request
            stdout = spooling.collector(for: "stdout")
            stderr = spooling.collector(for: "stderr")
        }
    }
}
