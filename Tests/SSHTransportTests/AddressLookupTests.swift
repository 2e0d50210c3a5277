import Dispatch
import Engine
import Foundation
import RunbookFormat
@testable import SSHTransport
import Testing

@Suite("name resolution")
struct AddressLookupTests {
    let host = Inventory.Host(name: "esxi-01", address: "esxi-01.example", port: 22)

    @Test("a resolver that never answers is given up on at the connect timeout, with what to do")
    func hungResolver() throws {
        let release = DispatchSemaphore(value: 0)
        // The lookup answers only once the test has seen the timeout: the order decides, not the clock.
        let lookup: AddressLookup.Lookup = { address, port in
            release.wait()
            return AddressLookup.system("127.0.0.1", port)
        }
        do {
            _ = try AddressLookup.resolve(host, timeout: .milliseconds(50), lookup: lookup)
            Issue.record("a hung resolver was waited for")
        } catch let error as TransportError {
            #expect(error.kind == .timedOut)
            #expect(error.detail == "could not resolve esxi-01.example within 0.05s")
            #expect(error.hint.contains("IP address"))
        }
        release.signal()
    }

    @Test("addresses resolve; a name that does not is unreachable")
    func resolves() throws {
        let local = try AddressLookup.resolve(Inventory.Host(name: "h", address: "127.0.0.1", port: 22), timeout: .seconds(5))
        freeaddrinfo(local)
        #expect(throws: TransportError.self) {
            _ = try AddressLookup.resolve(host, timeout: .seconds(5), lookup: { _, _ in (EAI_NONAME, nil) })
        }
    }
}
