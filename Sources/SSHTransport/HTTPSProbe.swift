import DrctlCore
import Engine
import Foundation

/// Whether a web service really answers: a TLS handshake, then an HTTP status below 500 on one of
/// the paths. An open port is not enough: vCenter's reverse proxy accepts TLS and answers 503
/// while vpxd is still down.
///
/// curl does the TLS and HTTP (Debian's `curl`); the certificate is not checked, because this asks
/// "is it up", sends nothing secret, and a recovered vCenter usually still has its self-signed one.
enum HTTPSProbe {
    static func check(_ request: ProbeRequest) -> ProbeResult {
        let seconds = max(1, Int(request.timeout.milliseconds / 1000))
        let host = request.address.contains(":") ? "[\(request.address)]" : request.address
        var seen: [String] = []
        for path in request.paths {
            let url = "https://\(host):\(request.port)\(path.hasPrefix("/") ? path : "/" + path)"
            switch fetchStatus(url, seconds: seconds) {
            case .success(let status) where status > 0 && status < 500:
                return ProbeResult(state: .up, detail: "\(url) answered HTTP \(status)")
            case .success(let status):
                seen.append(status == 0 ? "\(url): no TLS/HTTP answer" : "\(url) answered HTTP \(status)")
            case .failure(let problem):
                return ProbeResult(state: .down, detail: problem.text)
            }
        }
        return ProbeResult(state: .down, detail: seen.joined(separator: "; "))
    }

    /// The HTTP status (0 when the handshake or connection failed), or why curl could not run.
    static func fetchStatus(_ url: String, seconds: Int) -> Result<Int, ProbeProblem> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "--insecure", "--silent", "--output", "/dev/null", "--write-out", "%{http_code}",
                             "--connect-timeout", "\(seconds)", "--max-time", "\(seconds * 2)", url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(ProbeProblem("cannot run curl for an https probe: \(error) (install Debian's curl)"))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 { return .failure(ProbeProblem("an https probe needs curl: apt-get install curl")) }
        return .success(Int(String(decoding: data, as: UTF8.self).trimmingWhitespace()) ?? 0)
    }
}

struct ProbeProblem: Error {
    var text: String
    init(_ text: String) { self.text = text }
}
