import DrctlCore
@testable import Engine
import Foundation
import RunbookFormat
import Testing

/// A host whose commands take effect even when their answer never comes back, and that keeps
/// running a command drctl stopped waiting for.
actor StubbornHost: Transport {
    private(set) var applied = 0
    private(set) var sent: [String] = []
    private(set) var spans: [(command: String, start: Int, end: Int)] = []
    private var clock = 0

    func execute(_ command: String, on host: Inventory.Host, timeout: Duration?) async throws -> CommandResult {
        sent.append(command)
        clock += 1
        let start = clock
        defer {
            clock += 1
            spans.append((command, start, clock))
        }
        switch command {
        case "register":
            // hostd registers at once; the answer is lost, and the client gives up at its deadline.
            applied += 1
            try await Task.sleep(for: timeout ?? .seconds(60))
            throw TransportError(.commandTimedOut, host: host.name, detail: "`register` did not finish in time")
        case "slow change":
            // Runs on whatever drctl does: cancellation does not stop the host.
            let end = ContinuousClock.now + .milliseconds(2500)
            while ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
            applied += 1
            return CommandResult(stdout: "")
        case "check":
            return CommandResult(stdout: "", exitStatus: applied > 0 ? 0 : 1)
        default:
            return CommandResult(stdout: "")
        }
    }

    func probe(_ request: ProbeRequest) async -> ProbeResult { ProbeResult(state: .up, detail: "up") }
}

@Suite("retries never repeat a change")
struct RetryTests {
    func run(_ yaml: String, _ host: StubbornHost) async throws -> RunSummary {
        let runbook = try loadRunbook(yaml)
        let engine = Engine(runbook: runbook, inventory: testInventory, params: [:], transport: host, gate: AutoApproveGate(approver: "t"))
        return await engine.run()
    }

    @Test("a change that timed out but took effect is verified before a retry, and happens exactly once")
    func timeoutThenVerify() async throws {
        let host = StubbornHost()
        let summary = try await run("""
        runbook: r
        steps:
          - id: register
            on: h1
            run: register
            timeout: 100ms
            retry: { attempts: 3, delay: 10ms }
            verify: { run: check, expect: { exit: 0 } }
        """, host)
        #expect(await host.applied == 1)
        #expect(await host.sent.filter { $0 == "register" }.count == 1, "verify found the change: it is not sent again")
        #expect(summary.status("register") == .alreadyDone)
    }

    @Test("two attempts of one item never overlap on a host: a retry waits until the timed-out attempt has ended")
    func noOverlap() async throws {
        let host = StubbornHost()
        _ = try await run("""
        runbook: r
        steps:
          - id: change
            on: h1
            run: slow change
            timeout: 100ms
            retry: { attempts: 2, delay: 10ms }
            verify: false
        """, host)
        let spans = await host.spans.filter { $0.command == "slow change" }
        #expect(spans.count == 2)
        if spans.count == 2 { #expect(spans[1].start > spans[0].end, "the second attempt started before the first ended") }
    }
}
