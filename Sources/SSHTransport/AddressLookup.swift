import Engine
import Foundation
import RunbookFormat

/// Name resolution bounded by `--connect-timeout`. getaddrinfo blocks as long as the resolver
/// does (30 s and more when a DNS server is down, as it may be in the incident drctl is used
/// for), so it runs on a thread of its own and is given up on at the deadline; a late answer is freed.
enum AddressLookup {
    typealias Lookup = @Sendable (_ address: String, _ port: String) -> (status: Int32, result: UnsafeMutablePointer<addrinfo>?)

    static let system: Lookup = { address, port in
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address, port, &hints, &results)
        return (status, results)
    }

    private final class Pending: @unchecked Sendable {
        let lock = NSLock()
        let done = DispatchSemaphore(value: 0)
        var answer: (status: Int32, result: UnsafeMutablePointer<addrinfo>?)?
        var abandoned = false
    }

    static func resolve(_ host: Inventory.Host, timeout: Duration, lookup: @escaping Lookup = system) throws -> UnsafeMutablePointer<addrinfo> {
        let pending = Pending()
        let address = host.address, port = String(host.port)
        Thread {
            let answer = lookup(address, port)
            pending.lock.withLock {
                if pending.abandoned {
                    if let result = answer.result { freeaddrinfo(result) }
                } else {
                    pending.answer = answer
                }
            }
            pending.done.signal()
        }.start()
        _ = pending.done.wait(timeout: .now() + .milliseconds(Int(max(1, timeout.milliseconds))))
        let answer: (status: Int32, result: UnsafeMutablePointer<addrinfo>?)? = pending.lock.withLock {
            if pending.answer == nil { pending.abandoned = true }
            return pending.answer
        }
        guard let answer else {
            throw TransportError(.timedOut, host: host.name, detail: "could not resolve \(host.address) within \(DurationSeconds(timeout))",
                                 hint: "the DNS server may be down: put the host's IP address in the inventory")
        }
        guard answer.status == 0, let first = answer.result else {
            throw TransportError(.unreachable, host: host.name, detail: "cannot resolve \(host.address)", hint: "check the address in the inventory")
        }
        return first
    }
}
