import DrctlCore
import ESXi
import Foundation
import RunbookFormat
import Testing
@testable import Simulator

/// ESXi's durations in virtual time: per command kind, seeded, overridable per scenario; guests
/// boot before VMware Tools run; the appliance boots for minutes.
@Suite("ESXi durations and guests")
struct DurationTests {
    @Test("each command is classified by what it does; a pipeline is as slow as its slowest part")
    func kinds() {
        #expect(CommandDurations.kinds(of: "vim-cmd solo/registervm '[ds] a/a.vmx'") == [.registervm])
        #expect(CommandDurations.kinds(of: "vim-cmd vmsvc/message 3") == [.vimCmdRead], "reading a question is a read")
        #expect(CommandDurations.kinds(of: "vim-cmd vmsvc/message 3 79901 0") == [.answer])
        #expect(CommandDurations.kinds(of: "esxcli storage core adapter rescan --all") == [.rescanPerAdapter])
        #expect(CommandDurations.kinds(of: "esxcli storage filesystem list") == [.esxcliRead])
        #expect(CommandDurations.kinds(of: "/etc/init.d/hostd restart") == [.hostdRestart])
        #expect(CommandDurations.kinds(of: "ls /vmfs/volumes") == [.shell])
    }

    @Test("a seed draws the same time for the same occurrence, within the jitter; zero jitter is exact")
    func seeded() {
        let spread = CommandDurations.Spread(2_000, jitter: 40)
        let draws = (0..<200).map { spread.draw(seed: 7, key: "k\($0)") }
        #expect(draws == (0..<200).map { spread.draw(seed: 7, key: "k\($0)") })
        #expect(draws.allSatisfy { (1_200...2_800).contains($0) })
        #expect(Set(draws).count > 100, "jitter spreads the times")
        #expect(CommandDurations.Spread(2_000, jitter: 0).draw(seed: 7, key: "x") == 2_000)
    }

    /// The sample scenario with its appliance VM, as `sampleFleet` builds it.
    static let withAppliance = sampleScenario.replacingOccurrences(of: "vcenter: {", with: vcsaVM + "vcenter: {")

    @Test("a scenario's durations: replace the defaults; a bad jitter is reported at its line")
    func scenarioOverrides() throws {
        let scenario = try ScenarioLoader.load(text: Self.withAppliance + "\n" + """
            durations:
              jitter: 0%
              power_on: 7s
              rescan_per_adapter: { typical: 20s, jitter: 50% }
              guest_boot: { windows: 4m }
            """, file: "sample.yaml")
        #expect(scenario.durations.commands[.powerOn] == .init(7_000, jitter: 0))
        #expect(scenario.durations.commands[.rescanPerAdapter] == .init(20_000, jitter: 50))
        #expect(scenario.durations.commands[.registervm]?.jitterPercent == 0)
        #expect(scenario.durations.guestBoot["windows"] == .init(240_000, jitter: 0))
        #expect(throws: InvalidInput.self) { try ScenarioLoader.load(text: Self.withAppliance + "\ndurations: { jitter: lots }\n", file: "bad.yaml") }
        do {
            _ = try ScenarioLoader.load(text: Self.withAppliance + "\ndurations: { jitter: lots }\n", file: "bad.yaml")
        } catch let invalid as InvalidInput {
            #expect(invalid.diagnostics.first?.description.hasPrefix("bad.yaml:") == true)
            #expect(invalid.diagnostics.first?.description.contains("percentage") == true)
        }
    }

    @Test("get.guest: Tools run once the guest has booted; a VM without Tools says toolsNotInstalled, as ESXi does")
    func guestTools() throws {
        var fleet = try sampleFleet("  - { name: legacy, datastore: ds-shared-01, host: esxi-01, power: off, tools: false }\n")
        fleet.timing = CommandDurations.none
        fleet.vms[fleet.vmIndex(named: "web; reboot")!].bootMilliseconds = 30_000
        func guest(_ name: String) throws -> GuestInfo {
            let vmid = fleet.vms[fleet.vmIndex(named: name)!].registration!.vmid
            return try GuestInfoParser.parse(run("vim-cmd vmsvc/get.guest \(vmid)", on: "esxi-01", &fleet).stdout)
        }
        fleet.advance(to: 1_000)
        _ = run("vim-cmd vmsvc/power.on \(fleet.vms[fleet.vmIndex(named: "web; reboot")!].registration!.vmid)", on: "esxi-01", &fleet)
        _ = run("vim-cmd vmsvc/power.on \(fleet.vms[fleet.vmIndex(named: "legacy")!].registration!.vmid)", on: "esxi-01", &fleet)
        fleet.advance(to: 30_999)
        #expect(try guest("web; reboot").toolsRunningStatus == "guestToolsNotRunning")
        #expect(try guest("web; reboot").guestState == "notRunning")
        fleet.advance(to: 31_000)
        #expect(try guest("web; reboot").toolsRunning, "booted at 1 s + 30 s")
        #expect(try guest("legacy").toolsStatus == "toolsNotInstalled")
        #expect(try !guest("legacy").toolsRunning)
    }

    @Test("the reference get.guest output parses; output that is not a GuestInfo is an error, not 'not running'")
    func guestParser() throws {
        let reference = "Guest information:\n\n(vim.vm.GuestInfo) {\n   toolsStatus = \"toolsOk\", \n   toolsRunningStatus = \"guestToolsRunning\", \n   guestState = \"running\"\n}\n"
        let guest = try GuestInfoParser.parse(reference)
        #expect(guest.toolsStatus == "toolsOk" && guest.toolsRunning && guest.guestState == "running")
        #expect(throws: ESXiParseError.self) { try GuestInfoParser.parse("Connect to localhost failed: Connection failure.\n") }
    }

    @Test("in virtual time the appliance boots for vcsa_boot, then vMon starts its services after vcsa_services_start")
    func applianceBoots() throws {
        var fleet = try sampleFleet()
        var durations = CommandDurations.none
        durations.commands[.vcsaBoot] = .init(240_000, jitter: 0)
        durations.commands[.vcsaServicesStart] = .init(360_000, jitter: 0)
        fleet.timing = durations
        let appliance = fleet.vmIndex(named: "vcsa-01")!
        fleet.vms[appliance].power = .off
        fleet.vcenter?.servicesStartOnBoot = true
        fleet.advance(to: 10_000)
        _ = run("vim-cmd vmsvc/power.on \(fleet.vms[appliance].registration!.vmid)", on: "esxi-02", &fleet)
        fleet.advance(to: 249_999)
        #expect(run("service-control --status --all", on: "vcsa", &fleet).exitStatus == 255, "still booting")
        fleet.advance(to: 250_000)
        #expect(run("service-control --status --all", on: "vcsa", &fleet).exitStatus == 0)
        #expect(fleet.vcenter?.servicesRunning == false)
        fleet.advance(to: 610_000)
        #expect(fleet.vcenter?.servicesRunning == true, "10 s + 4 min + 6 min")
    }

    @Test("find -name globs by hand: a star in a file name is not a wildcard of the pattern")
    func glob() {
        #expect(Files.glob("*.vmx", "*glob? 1040.vmx"))
        #expect(Files.glob("db-??.vmx", "db-01.vmx"))
        #expect(!Files.glob("*.vmx", "db-01.vmdk"))
        #expect(Files.glob("*", ""))
        #expect(!Files.glob("a*b", "acb-"))
    }

    @Test("the same command sent to one host at one instant by two items is answered in the engine's order, not in arrival order")
    func identicalCommandsByRank() async throws {
        // A .vmx registered nowhere yet: whoever registers it first gets it, the other is refused.
        var fleet = try sampleFleet("  - { name: spare, datastore: ds-shared-01 }\n")
        fleet.timing = .defaults
        let register = "vim-cmd solo/registervm /vmfs/volumes/ds-shared-01/spare/spare.vmx"
        // Started in both orders, so that one of them reaches the host first whichever way tasks are scheduled.
        for order in [[5, 1], [1, 5], [5, 1], [1, 5]] {
            let clock = VirtualClock()
            let simulator = FleetSimulator(fleet: fleet, clock: clock)
            let senders: [@Sendable () async -> (Int, Int32)] = order.map { item in
                {
                    let rank = AsyncLimiter.Rank(step: 3, item: item, host: "esxi-01")
                    let result = try? await AsyncLimiter.$currentRank.withValue(rank) { try await simulator.execute(register, on: "esxi-01", timeout: nil) }
                    return (item, result?.exitStatus ?? -1)
                }
            }
            let answers = Dictionary(uniqueKeysWithValues: await clock.gather(senders))
            #expect(answers[1] == 0 && answers[5] != 0, "item 1 registers the VM, item 5 is refused: \(answers)")
        }
    }
}
