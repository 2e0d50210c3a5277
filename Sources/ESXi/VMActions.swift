import DrctlCore

/// Actions on virtual machines (`vim-cmd vmsvc/...` and `solo/registervm`).
enum VMActions {
    static let vmid = ActionParameter("vmid", .integer, "the VM id on this host, as getallvms prints it")

    static let getAllVMs = ESXiAction(
        name: "vm.getallvms", summary: "List the VMs registered on the host.", mutates: false,
        outputs: ["vms", "warnings", "invalid"],
        plan: { _ in [ESXiCommand.getAllVMs] },
        perform: { _, shell in
            let output = try await shell.checked(ESXiCommand.getAllVMs)
            let host = shell.hostName
            let listing = { () throws -> [String: Value] in
                let listing = try GetAllVMsParser.parse(output.stdout, stderr: output.stderr)
                return ["vms": .list(listing.vms.map { $0.value(listedBy: host) }), "warnings": .list(listing.warnings.map(Value.string)),
                        "invalid": .list(listing.invalidVmids.map { ["vmid": .int($0)] })]
            }
            // An unchanged host's listing, read again, gives the same values.
            return try output.stderr.isEmpty ? listingValues.value(of: host + "\u{0}" + output.stdout) { _ in try listing() } : listing()
        })

    private static let listingValues = ParseMemo<[String: Value]>()

    static let powerState = ESXiAction(
        name: "vm.power.getstate", summary: "Read a VM's power state.", parameters: [vmid], mutates: false,
        outputs: ["state", "powered_on"],
        plan: { arguments in [ESXiCommand.powerState(vmid: try arguments.integer("vmid"))] },
        perform: { arguments, shell in
            let state = try await readPowerState(vmid: try arguments.integer("vmid"), shell)
            return ["state": .string(state.rawValue), "powered_on": .bool(state == .poweredOn)]
        })

    static let register = ESXiAction(
        name: "vm.registervm", summary: "Register a .vmx file on the host; captures the new vmid.",
        parameters: [ActionParameter("vmx", .text, "the .vmx path, `[datastore] dir/vm.vmx` or `/vmfs/volumes/...`"),
                     ActionParameter("name", .text, required: false, "the inventory name to give the VM")],
        mutates: true, outputs: ["vmid", "already_registered"],
        plan: { arguments in [ESXiCommand.register(vmx: try vmxPath(arguments), name: arguments.optionalText("name"))] },
        perform: { arguments, shell in
            let command = ESXiCommand.register(vmx: try vmxPath(arguments), name: arguments.optionalText("name"))
            let output = try await shell.run(command)
            if output.exitStatus != 0, ESXiFault.find(in: output.combined) == nil {
                throw ESXiCommandFailed(command: command, output: output)
            }
            // AlreadyExists names the vmid holding the file: the registration is there (a late
            // one from a killed run, say). That vmid is this VM's; registering again would fail.
            if let fault = ESXiFault.find(in: output.combined), fault.type == "AlreadyExists", let vmid = existingVmid(fault) {
                return ["vmid": .int(vmid), "already_registered": true]
            }
            return ["vmid": .int(try RegisterVMParser.parse(output.combined))]
        },
        verify: { arguments, shell in
            // Already registered: reuse its vmid instead of registering twice.
            let path = try vmxPath(arguments)
            let listing = try await listAll(shell)
            guard let existing = listing.vms.first(where: { DatastorePath($0.file) == path }) else { return nil }
            return ["vmid": .int(existing.vmid)]
        })

    static let unregister = ESXiAction.settling(5, ESXiAction(
        name: "vm.unregister", summary: "Remove a VM from the host's inventory (its files stay).", parameters: [vmid],
        mutates: true, outputs: [],
        plan: { arguments in [ESXiCommand.unregister(vmid: try arguments.integer("vmid"))] },
        perform: { arguments, shell in
            _ = try await shell.checked(ESXiCommand.unregister(vmid: try arguments.integer("vmid")))
            return [:]
        },
        verify: { arguments, shell in
            let vmid = try arguments.integer("vmid")
            let listing = try await listAll(shell)
            // An invalid registration is skipped by getallvms but still there.
            return listing.vms.contains(where: { $0.vmid == vmid }) || listing.invalidVmids.contains(vmid) ? nil : [:]
        }))

    static let powerOff = ESXiAction(
        name: "vm.power.off", summary: "Power a VM off (hard).", parameters: [vmid], mutates: true, outputs: ["state"],
        plan: { arguments in [ESXiCommand.powerOff(vmid: try arguments.integer("vmid"))] },
        perform: { arguments, shell in
            let command = ESXiCommand.powerOff(vmid: try arguments.integer("vmid"))
            let output = try await shell.run(command)
            try PowerCommandParser.check(output.combined)
            guard output.exitStatus == 0 else { throw ESXiCommandFailed(command: command, output: output) }
            return ["state": .string(PowerState.poweredOff.rawValue)]
        },
        verify: { arguments, shell in
            try await readPowerState(vmid: try arguments.integer("vmid"), shell) == .poweredOff
                ? ["state": .string(PowerState.poweredOff.rawValue)] : nil
        })

    static let message = ESXiAction(
        name: "vm.message", summary: "Read the question a VM waits on, and optionally answer it.",
        parameters: [vmid, ActionParameter("answer", .choice(UUIDAlteredAnswer.allCases.map(\.rawValue)), required: false,
                                           "answer msg.uuid.altered with this choice")],
        mutates: false, outputs: ["pending", "question", "answered"],
        plan: { arguments in
            let vmid = try arguments.integer("vmid")
            return [ESXiCommand.message(vmid: vmid)] + (arguments.optionalText("answer").map { ["vim-cmd vmsvc/message \(vmid) <question id> <choice '\($0)'>"] } ?? [])
        },
        perform: { arguments, shell in
            let vmid = try arguments.integer("vmid")
            let question = QuestionParser.parse(try await shell.checked(ESXiCommand.message(vmid: vmid)).stdout)
            var answered = ""
            if let question, let wanted = arguments.optionalText("answer").flatMap(UUIDAlteredAnswer.init(rawValue:)) {
                answered = try await answer(question, with: wanted, vmid: vmid, shell)
            }
            return ["pending": .bool(question != nil && answered.isEmpty), "question": question?.value ?? .null,
                    "answered": .string(answered)]
        })

    /// `getallvms`, with the warnings ESXi prints on stderr.
    static func listAll(_ shell: any ESXiShell) async throws -> VMInventoryListing {
        let output = try await shell.checked(ESXiCommand.getAllVMs)
        return try GetAllVMsParser.parse(output.stdout, stderr: output.stderr)
    }

    /// The vmid an AlreadyExists fault names: `name = "12"`, or `'12' already exists` in its message.
    static func existingVmid(_ fault: ESXiFault) -> Int? {
        if let name = fault.members["name"], let vmid = Int(name) { return vmid }
        guard let open = fault.message.firstIndex(of: "'"), let close = fault.message[fault.message.index(after: open)...].firstIndex(of: "'") else { return nil }
        return Int(fault.message[fault.message.index(after: open)..<close])
    }

    static func vmxPath(_ arguments: ActionArguments) throws -> DatastorePath {
        let text = try arguments.text("vmx")
        guard let path = DatastorePath(text), path.relativePath.hasSuffix(".vmx") else {
            throw ActionArgumentError.wrongKind("vmx", expected: "a .vmx path like `[datastore] vm/vm.vmx`", got: text)
        }
        return path
    }

    static func readPowerState(vmid: Int, _ shell: any ESXiShell) async throws -> PowerState {
        let output = try await shell.run(ESXiCommand.powerState(vmid: vmid))
        return try PowerStateParser.parse(output.combined)
    }

    /// Answers a pending `msg.uuid.altered` question with the choice whose label says so.
    static func answer(_ question: PendingQuestion, with answer: UUIDAlteredAnswer, vmid: Int, _ shell: any ESXiShell) async throws -> String {
        guard question.isUUIDAltered else {
            throw ESXiFault(type: "QuestionPending", message: "the VM asks \(question.key): \(question.text); answer it by hand with vim-cmd vmsvc/message \(vmid)")
        }
        guard let choice = question.choice(answering: answer) else {
            throw ESXiParseError.unexpectedOutput(expected: "a choice saying '\(answer.rawValue)'", output: question.choices.map(\.label).joined(separator: "\n"))
        }
        _ = try await shell.checked(ESXiCommand.answer(vmid: vmid, questionID: question.id, choice: choice.index))
        return choice.label.replacingOccurrences(of: "_", with: "")
    }
}
