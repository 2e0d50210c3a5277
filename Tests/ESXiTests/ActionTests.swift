import DrctlCore
@testable import ESXi
import Foundation
import Testing

/// A host that answers from a script and remembers what it was sent.
final class ScriptedShell: ESXiShell, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [String] = []
    private let answer: @Sendable (String) async -> ShellOutput
    let hostName: String

    init(host: String = "esx-scripted", _ answer: @escaping @Sendable (String) async -> ShellOutput) {
        self.hostName = host
        self.answer = answer
    }

    var commands: [String] {
        lock.withLock { sent }
    }

    func run(_ command: String) async throws -> ShellOutput {
        lock.withLock { sent.append(command) }
        return await answer(command)
    }
}

/// A VM whose power-on blocks on msg.uuid.altered until answered, as on ESXi.
actor MovedVM {
    var questionPending = false
    var poweredOn = false
    var answeredChoice: Int?

    func powerOn() async -> ShellOutput {
        questionPending = true
        while questionPending { try? await Task.sleep(for: .milliseconds(5)) }
        poweredOn = true
        return ShellOutput(stdout: "Powering on VM:\n")
    }

    func message() -> ShellOutput {
        guard questionPending else { return ShellOutput(stdout: "") }
        return ShellOutput(stdout: """
        Virtual machine message 79900:
        msg.uuid.altered:This virtual machine might have been moved or copied.
        0. Cancel (Cancel)
        1. I _Moved It (I _Moved It)
        2. I Co_pied It (I Co_pied It) [default]

        """)
    }

    func answer(_ choice: Int) -> ShellOutput {
        answeredChoice = choice
        questionPending = false
        return ShellOutput(stdout: "")
    }

    func state() -> ShellOutput { ShellOutput(stdout: "Retrieved runtime info\n\(poweredOn ? "Powered on" : "Powered off")\n") }
}

@Suite("typed actions")
struct ActionTests {
    @Test("power.on answers 'moved' by label while the power-on blocks, then confirms the state")
    func powerOnAnswersQuestion() async throws {
        let vm = MovedVM()
        let shell = ScriptedShell { command in
            switch command {
            case "vim-cmd vmsvc/power.on 7": return await vm.powerOn()
            case "vim-cmd vmsvc/message 7": return await vm.message()
            case "vim-cmd vmsvc/message 7 79900 1": return await vm.answer(1)
            case "vim-cmd vmsvc/power.getstate 7": return await vm.state()
            default: return ShellOutput(stdout: "", stderr: "-sh: \(command): not found", exitStatus: 127)
            }
        }
        let action = try #require(ActionCatalog.action(named: "vm.power.on"))
        let outputs = try await action.perform(ActionArguments(["vmid": 7, "answer": "moved", "poll": "10ms"]), shell)
        #expect(outputs["state"] == "Powered on")
        #expect(outputs["answered"] == "I Moved It")
        #expect(await vm.answeredChoice == 1)
    }

    @Test("register's verify finds an existing registration and reuses its vmid")
    func registerVerify() async throws {
        let shell = ScriptedShell { _ in
            ShellOutput(stdout: "Vmid   Name   File   Guest OS   Version   Annotation\n14     web; reboot   [ds1] web; reboot/web; reboot.vmx   otherGuest   vmx-13\n")
        }
        let action = try #require(ActionCatalog.action(named: "vm.registervm"))
        let existing = try await action.verify!(ActionArguments(["vmx": "[ds1] web; reboot/web; reboot.vmx"]), shell)
        #expect(existing?["vmid"] == 14)
        let missing = try await action.verify!(ActionArguments(["vmx": "[ds1] other/other.vmx"]), shell)
        #expect(missing == nil)
    }

    @Test("hostile names reach registervm as one quoted argument")
    func registerQuotes() throws {
        let action = try #require(ActionCatalog.action(named: "vm.registervm"))
        let commands = try action.plan(ActionArguments(["vmx": "[ds1] $(id)/$(id).vmx"]))
        #expect(commands == ["vim-cmd solo/registervm '/vmfs/volumes/ds1/$(id)/$(id).vmx'"])
    }

    @Test("a fault from registervm is thrown as a typed fault")
    func registerFault() async throws {
        let shell = ScriptedShell { _ in
            ShellOutput(stdout: "(vim.fault.AlreadyExists) {\n   faultCause = (vmodl.MethodFault) null,\n   msg = \"The specified key, name, or identifier already exists.\"\n}\n", exitStatus: 1)
        }
        let action = try #require(ActionCatalog.action(named: "vm.registervm"))
        await #expect(throws: ESXiFault.self) { try await action.perform(ActionArguments(["vmx": "[ds1] a/a.vmx"]), shell) }
    }

    @Test("vmkping of an unreachable address is a result, not a failure")
    func vmkpingUnreachable() async throws {
        let shell = ScriptedShell { _ in
            ShellOutput(stdout: "PING 10.0.0.9 (10.0.0.9): 56 data bytes\n\n--- 10.0.0.9 ping statistics ---\n3 packets transmitted, 0 packets received, 100% packet loss\n", exitStatus: 1)
        }
        let action = try #require(ActionCatalog.action(named: "net.vmkping"))
        let outputs = try await action.perform(ActionArguments(["target": "10.0.0.9", "interface": "vmk0"]), shell)
        #expect(outputs["reachable"] == false)
        #expect(shell.commands == ["vmkping -c 3 -I vmk0 10.0.0.9"])
    }

    @Test("every action has a name, a summary, and plans commands for sample arguments")
    func catalogIsComplete() throws {
        #expect(Set(ActionCatalog.names).count == ActionCatalog.all.count)
        for action in ActionCatalog.all {
            #expect(!action.summary.isEmpty)
            var arguments: [String: Value] = [:]
            for parameter in action.parameters {
                switch parameter.kind {
                case .integer: arguments[parameter.name] = 3
                case .boolean: arguments[parameter.name] = true
                case .duration: arguments[parameter.name] = "1s"
                case .choice(let options): arguments[parameter.name] = .string(options[0])
                case .text: arguments[parameter.name] = parameter.name == "vmx" ? "[ds1] a/a.vmx" : "x"
                }
            }
            let commands = try action.plan(ActionArguments(arguments))
            #expect(!commands.isEmpty, "\(action.name) plans no command")
        }
    }
}
