import DrctlCore

/// `vm.power.on`: powers a VM on and, when asked, answers the `msg.uuid.altered` question.
///
/// On ESXi, `vim-cmd vmsvc/power.on` blocks while the VM waits on a question, so the question is
/// polled on a second channel while the power-on runs, answered by the label of the choice (the
/// index differs between versions), and the power state is read back at the end.
enum PowerOnAction {
    static let definition = ESXiAction(
        name: "vm.power.on",
        summary: "Power a VM on; optionally answer 'moved' or 'copied' to msg.uuid.altered, then confirm it runs.",
        parameters: [VMActions.vmid,
                     ActionParameter("answer", .choice(UUIDAlteredAnswer.allCases.map(\.rawValue) + ["none"]), required: false,
                                     "answer msg.uuid.altered with this choice (default: moved)"),
                     ActionParameter("poll", .duration, required: false, "how often to look for a question (default 1s)"),
                     ActionParameter("wait_for_tools", .duration, required: false,
                                     "then wait up to this long for VMware Tools to run in the guest, as SRM does (its default is 5m); a guest whose Tools do not start is reported in `tools`, not failed"),
                     ActionParameter("tools_poll", .duration, required: false, "how often to read the guest's Tools status (default 5s)")],
        mutates: true, outputs: ["state", "answered", "tools", "guest_ready"],
        plan: { arguments in
            let vmid = try arguments.integer("vmid")
            let answer = arguments.optionalText("answer") ?? "moved"
            var commands = [ESXiCommand.powerOn(vmid: vmid)]
            if answer != "none" {
                commands.insert("\(ESXiCommand.message(vmid: vmid))  # first: a question an interrupted power-on left pending is answered instead", at: 0)
                commands.append("\(ESXiCommand.message(vmid: vmid))  # answer msg.uuid.altered: '\(answer)'")
            }
            commands.append(ESXiCommand.powerState(vmid: vmid))
            if let limit = toolsLimit(arguments) {
                commands.append("\(ESXiCommand.guestInfo(vmid: vmid))  # until toolsRunningStatus is guestToolsRunning, at most \(DurationText.format(limit))")
            }
            return commands
        },
        perform: { arguments, shell in try await waitForGuest(after: try await powerOn(arguments, shell), arguments, shell) },
        // A VM already on (a resumed run) still has its guest waited for: its dependants need it.
        verify: { arguments, shell in
            guard try await VMActions.readPowerState(vmid: try arguments.integer("vmid"), shell) == .poweredOn else { return nil }
            return try await waitForGuest(after: ["state": .string(PowerState.poweredOn.rawValue), "answered": ""], arguments, shell)
        })

    static func toolsLimit(_ arguments: ActionArguments) -> Duration? {
        guard let limit = arguments.optionalText("wait_for_tools").flatMap(DurationText.parse), limit > .zero else { return nil }
        return limit
    }

    /// With `wait_for_tools`, reads `get.guest` until the guest runs VMware Tools or the limit
    /// passes. A guest that never starts them (no Tools installed, a hung boot) is reported in
    /// `tools` and `guest_ready: false`, and the power-on stands: SRM goes on the same way.
    static func waitForGuest(after outputs: ESXiAction.Outputs, _ arguments: ActionArguments, _ shell: any ESXiShell) async throws -> ESXiAction.Outputs {
        var outputs = outputs
        guard let limit = toolsLimit(arguments) else {
            outputs["tools"] = "not waited for"
            outputs["guest_ready"] = .null
            return outputs
        }
        let vmid = try arguments.integer("vmid")
        let poll = arguments.optionalText("tools_poll").flatMap(DurationText.parse) ?? .seconds(5)
        let start = shell.clock.elapsed
        while true {
            let guest = try GuestInfoParser.parse(try await shell.checked(ESXiCommand.guestInfo(vmid: vmid)).stdout)
            let waited = shell.clock.elapsed - start
            if guest.toolsRunning {
                outputs["tools"] = .string("running after \(DurationText.format(waited))")
                outputs["guest_ready"] = true
                return outputs
            }
            if waited >= limit {
                outputs["tools"] = .string("not running after \(DurationText.format(limit)) (\(guest.toolsStatus)); the dependants started without it")
                outputs["guest_ready"] = false
                return outputs
            }
            try await shell.clock.sleep(for: min(poll, limit - waited))
        }
    }

    static func powerOn(_ arguments: ActionArguments, _ shell: any ESXiShell) async throws -> ESXiAction.Outputs {
        let vmid = try arguments.integer("vmid")
        let answerText = arguments.optionalText("answer") ?? "moved"
        let answer = UUIDAlteredAnswer(rawValue: answerText)
        if answer == nil, answerText != "none" {
            throw ActionArgumentError.wrongKind("answer", expected: "moved, copied or none", got: answerText)
        }
        let poll = arguments.optionalText("poll").flatMap(DurationText.parse) ?? .seconds(1)
        if let answer, let pending = try await answerPendingQuestion(vmid: vmid, answer: answer, shell) { return pending }

        // The power-on and the watch for its question run side by side; the watch ends when the
        // power-on returns. Each works under a clock token of its own (virtual time in drills).
        let powerOn: @Sendable () async -> PowerOnEvent = { .finished(await outcome { try await shell.run(ESXiCommand.powerOn(vmid: vmid)) }) }
        var sides = [powerOn]
        if let answer {
            sides.append { .answered(await outcome { try await watchForQuestion(vmid: vmid, answer: answer, poll: poll, shell) }) }
        }
        var output: ShellOutput?
        var answeredWhileRunning = ""
        let powerOnReturned: @Sendable (PowerOnEvent) -> Bool = { if case .finished = $0 { return true } else { return false } }
        for event in await shell.clock.gather(sides, stopsTheRest: powerOnReturned) {
            switch event {
            case .finished(let result): output = try result.get()
            case .answered(let result): answeredWhileRunning = try result.get()
            }
        }
        let powerOnOutput = output!
        do {
            try PowerCommandParser.check(powerOnOutput.combined)
        } catch let fault as ESXiFault where fault.type == "InvalidPowerState" && fault.members["existingState"] == "poweredOn" {
            // "Already powered on": the change is there (an earlier attempt's, say): done, not failed.
            return ["state": .string(PowerState.poweredOn.rawValue), "answered": .string(answeredWhileRunning)]
        }
        guard powerOnOutput.exitStatus == 0 else {
            throw ESXiCommandFailed(command: ESXiCommand.powerOn(vmid: vmid), output: powerOnOutput)
        }
        var answered = answeredWhileRunning
        // Hosts that return before the question is answered leave it pending: answer it now.
        var state = try await VMActions.readPowerState(vmid: vmid, shell)
        if state != .poweredOn, let answer, answered.isEmpty,
           let question = QuestionParser.parse(try await shell.checked(ESXiCommand.message(vmid: vmid)).stdout) {
            answered = try await VMActions.answer(question, with: answer, vmid: vmid, shell)
            state = try await VMActions.readPowerState(vmid: vmid, shell)
        }
        guard state == .poweredOn else {
            throw ESXiFault(type: "InvalidPowerState", message: "power.on returned but the VM is \(state.rawValue.lowercased())",
                            members: ["requestedState": "poweredOn", "existingState": state.apiName])
        }
        return ["state": .string(state.rawValue), "answered": .string(answered)]
    }

    /// A power-on interrupted earlier (drctl killed, connection lost) may have left the VM
    /// waiting on its question: answering it finishes that power-on; sending another would not.
    private static func answerPendingQuestion(vmid: Int, answer: UUIDAlteredAnswer, _ shell: any ESXiShell) async throws -> ESXiAction.Outputs? {
        guard let question = QuestionParser.parse(try await shell.checked(ESXiCommand.message(vmid: vmid)).stdout) else { return nil }
        let answered = try await VMActions.answer(question, with: answer, vmid: vmid, shell)
        let state = try await VMActions.readPowerState(vmid: vmid, shell)
        guard state == .poweredOn else {
            throw ESXiFault(type: "InvalidPowerState", message: "answered the pending question '\(answered)' but the VM is \(state.rawValue.lowercased())",
                            members: ["requestedState": "poweredOn", "existingState": state.apiName])
        }
        return ["state": .string(state.rawValue), "answered": .string(answered)]
    }

    private static func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    private enum PowerOnEvent: Sendable {
        case finished(Result<ShellOutput, any Error>)
        case answered(Result<String, any Error>)
    }

    /// Polls `vmsvc/message` until a question shows, then answers it. Ends when cancelled.
    private static func watchForQuestion(vmid: Int, answer: UUIDAlteredAnswer, poll: Duration, _ shell: any ESXiShell) async throws -> String {
        // Look early: the question shows within moments of the power-on.
        var delay = min(poll, .milliseconds(50))
        while !Task.isCancelled {
            try? await shell.clock.sleep(for: delay)
            if Task.isCancelled { break }
            delay = poll
            let output: ShellOutput
            do {
                output = try await shell.run(ESXiCommand.message(vmid: vmid))
            } catch let stop as StopsTheAction {
                throw stop
            } catch {
                continue  // a read that failed once is read again at the next poll
            }
            guard let question = QuestionParser.parse(output.stdout) else { continue }
            return try await VMActions.answer(question, with: answer, vmid: vmid, shell)
        }
        return ""
    }
}
