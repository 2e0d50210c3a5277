import ESXi
import Foundation

/// `vim-cmd`: the hostd client. Every subcommand needs hostd running.
enum VimCmd {
    static func run(_ arguments: [String], on host: String, fleet: inout Fleet) -> CommandOutput {
        guard let hostIndex = fleet.hostIndex(host) else { return .failure("-sh: vim-cmd: not found\n", exit: 127) }
        guard fleet.hosts[hostIndex].hostdRunning else {
            return .failure("Connect to localhost failed: Connection failure.\n")
        }
        guard var command = arguments.first else {
            return .failure("Commands available under /:\nhbrsvc/       internalsvc/  solo/         vmsvc/\nhostsvc/      proxysvc/     vimsvc/       help\n")
        }
        if command.hasPrefix("/") { command.removeFirst() }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "vmsvc/getallvms": return getAllVMs(on: host, fleet: fleet)
        case "vmsvc/power.getstate": return withVM(rest, host, fleet) { index in
            if fleet.vms[index].invalid { return invalidState() }
            let state: PowerState = fleet.vms[index].power == .on ? .poweredOn : (fleet.vms[index].power == .suspended ? .suspended : .poweredOff)
            return .text("Retrieved runtime info\n\(state.rawValue)\n")
        }
        case "vmsvc/power.on": return powerOn(rest, on: host, hostIndex: hostIndex, fleet: &fleet)
        case "vmsvc/power.off": return powerOff(rest, on: host, fleet: &fleet)
        case "vmsvc/unregister": return unregister(rest, on: host, fleet: &fleet)
        case "vmsvc/message": return message(rest, on: host, fleet: &fleet)
        case "solo/registervm": return register(rest, on: host, hostIndex: hostIndex, fleet: &fleet)
        case "hostsvc/hostsummary": return hostSummary(fleet.hosts[hostIndex], fleet: fleet)
        case "vmsvc/get.guest": return withVM(rest, host, fleet) { guestInfo(fleet.vms[$0], fleet: fleet) }
        default:
            return .failure("Invalid command '\(command)'.\n")
        }
    }

    static func notFound(_ vmid: String) -> CommandOutput {
        .fault(Render.fault("vim.fault.NotFound", message: "Unable to find a VM corresponding to \"\(vmid)\""))
    }

    /// Looks up the VM named by the first argument (a vmid on this host).
    static func withVM(_ arguments: [String], _ host: String, _ fleet: Fleet, _ body: (Int) -> CommandOutput) -> CommandOutput {
        guard let text = arguments.first else { return .failure("Insufficient arguments.\n") }
        guard let vmid = Int(text), let index = fleet.vmIndex(host: host, vmid: vmid) else { return notFound(text) }
        return body(index)
    }

    static func getAllVMs(on host: String, fleet: Fleet) -> CommandOutput {
        let registered = fleet.registeredIndices(on: host).map { fleet.vms[$0] }
        // hostd escapes %, / and \ in names; invalid registrations are reported on stderr, as ESXi does.
        let rows = registered.filter { !$0.invalid }
            .map { vm in [String(vm.registration!.vmid), HostdName.encode(vm.name), vm.datastorePath, vm.guestOS, vm.hardwareVersion, vm.annotation] }
        let skipped = registered.filter(\.invalid).map { "Skipping invalid VM '\($0.registration!.vmid)'\n" }.joined()
        return CommandOutput(stdout: Render.vmTable(rows), stderr: skipped)
    }

    static func invalidState() -> CommandOutput {
        .fault(Render.fault("vim.fault.InvalidState", message: "The operation is not allowed in the current state."))
    }

    static func powerOn(_ arguments: [String], on host: String, hostIndex: Int, fleet: inout Fleet) -> CommandOutput {
        guard let text = arguments.first else { return .failure("Insufficient arguments.\n") }
        guard let vmid = Int(text), let index = fleet.vmIndex(host: host, vmid: vmid) else { return notFound(text) }
        let vm = fleet.vms[index]
        let failed = "Powering on VM:\n"
        if vm.invalid { return invalidState() }
        if vm.power == .on {
            return .fault(failed + Render.fault("vim.fault.InvalidPowerState",
                                                members: [("requestedState", "\"poweredOn\""), ("existingState", "\"poweredOn\"")],
                                                message: "The attempted operation cannot be performed in the current state (Powered on).",
                                                prefix: "Power on failed: "))
        }
        if vm.question != nil {
            // An earlier power-on still waits on its question: ESXi refuses another.
            return .fault(failed + Render.fault("vim.fault.InvalidState", message: "The operation is not allowed in the current state.",
                                                prefix: "Power on failed: "))
        }
        if !fleet.datastoreAccessible(vm.datastore, from: host) {
            return .fault(failed + Render.fault("vim.fault.FileNotFound", members: [("file", "\"\(vm.absolutePath)\"")],
                                                message: "File \(vm.absolutePath) was not found", prefix: "Power on failed: "))
        }
        if vm.failsToPowerOn {
            return .fault(failed + Render.fault("vim.fault.GenericVmConfigFault", members: [("reason", "\"Module 'MonitorMode' power on failed.\"")],
                                                message: "Module 'MonitorMode' power on failed.", prefix: "Power on failed: "))
        }
        // Admission control, as ESXi's: memory may be overcommitted, reservations may not.
        let reservation = vm.memoryReservationMB ?? 0
        if reservation > 0, fleet.memoryReserved(on: host) + reservation > fleet.hosts[hostIndex].memoryMB {
            return .fault(failed + Render.fault("vim.fault.InsufficientMemoryResourcesFault",
                                                members: [("unreserved", "\(max(0, fleet.hosts[hostIndex].memoryMB - fleet.memoryReserved(on: host)) * 1_048_576)"),
                                                          ("requested", "\(reservation * 1_048_576)")],
                                                message: "The available Memory resources in the parent resource pool are insufficient for the operation.",
                                                prefix: "Power on failed: "))
        }
        fleet.changeLog.append("\(host): power.on \(vm.name)")
        if let owner = vm.owner, owner != host {
            // The files were last used by another host: ESXi asks whether the VM moved or was copied.
            let id = fleet.hosts[hostIndex].major >= 6 ? String(fleet.hosts[hostIndex].nextQuestionID) : "0"
            fleet.hosts[hostIndex].nextQuestionID += 1
            fleet.vms[index].question = SimVM.Question(id: id, key: "msg.uuid.altered")
            return CommandOutput(stdout: failed, wait: PendingWait(host: host, vm: vm.name))
        }
        powerOnNow(index, host: host, fleet: &fleet)
        return .text(failed)
    }

    /// The VM runs; the vCenter appliance's services start with it.
    static func powerOnNow(_ index: Int, host: String, fleet: inout Fleet) {
        fleet.vms[index].power = .on
        fleet.vms[index].owner = host
        fleet.vms[index].poweredOnAt = fleet.now
        if let vcenter = fleet.vcenter, vcenter.vm == fleet.vms[index].name, let timing = fleet.timing {
            // In virtual time the appliance boots for minutes, then vMon starts its services.
            fleet.vcenter?.bootingCommandsLeft = 0
            fleet.vcenter?.bootingUntil = fleet.now + timing.time(of: .vcsaBoot, seed: fleet.seed, key: "\(vcenter.vm)/\(fleet.now)")
            fleet.vcenter?.servicesStartAt = nil
            fleet.vcenter?.servicesRunning = false
        } else if let vcenter = fleet.vcenter, vcenter.vm == fleet.vms[index].name {
            // The appliance boots: SSH answers first, its commands and services come later.
            fleet.vcenter?.bootingCommandsLeft = vcenter.bootCommands ?? 0
            fleet.vcenter?.servicesRunning = (vcenter.bootCommands ?? 0) == 0 && vcenter.servicesStartOnBoot != false
        }
    }

    static func powerOff(_ arguments: [String], on host: String, fleet: inout Fleet) -> CommandOutput {
        withVMIndex(arguments, host, fleet) { index in
            if fleet.vms[index].power != .on {
                return .fault("Powering off VM:\n" + Render.fault("vim.fault.InvalidPowerState",
                                                                   members: [("requestedState", "\"poweredOff\""), ("existingState", "\"poweredOff\"")],
                                                                   message: "The attempted operation cannot be performed in the current state (Powered off).",
                                                                   prefix: "Power off failed: "))
            }
            fleet.vms[index].power = .off
            fleet.changeLog.append("\(host): power.off \(fleet.vms[index].name)")
            return .text("Powering off VM:\n")
        }
    }

    static func unregister(_ arguments: [String], on host: String, fleet: inout Fleet) -> CommandOutput {
        withVMIndex(arguments, host, fleet) { index in
            if fleet.vms[index].power == .on {
                return .fault(Render.fault("vim.fault.InvalidPowerState",
                                           members: [("requestedState", "\"poweredOff\""), ("existingState", "\"poweredOn\"")],
                                           message: "The attempted operation cannot be performed in the current state (Powered on)."))
            }
            fleet.vms[index].registration = nil
            fleet.vms[index].invalid = false
            fleet.changeLog.append("\(host): unregister \(fleet.vms[index].name)")
            return .text("")
        }
    }

    private static func withVMIndex(_ arguments: [String], _ host: String, _ fleet: Fleet, _ body: (Int) -> CommandOutput) -> CommandOutput {
        withVM(arguments, host, fleet, body)
    }

    static func message(_ arguments: [String], on host: String, fleet: inout Fleet) -> CommandOutput {
        guard let text = arguments.first else { return .failure("Insufficient arguments.\n") }
        guard let vmid = Int(text), let index = fleet.vmIndex(host: host, vmid: vmid) else { return notFound(text) }
        guard let question = fleet.vms[index].question else { return .text("") }
        let modern = (fleet.hostIndex(host).map { fleet.hosts[$0].major } ?? 8) >= 6
        if arguments.count >= 3 {
            guard arguments[1] == question.id, let choice = Int(arguments[2]), (0...2).contains(choice) else {
                return .fault(Render.fault("vim.fault.InvalidArgument", members: [("invalidProperty", "<unset>")],
                                           message: "A specified parameter was not correct: \(arguments[1])"))
            }
            fleet.vms[index].question = nil
            fleet.changeLog.append("\(host): answer \(fleet.vms[index].name) \(choice)")
            if choice != 0 { powerOnNow(index, host: host, fleet: &fleet) }
            return .text("")
        }
        let choices = modern
            ? ["0. Cancel (Cancel)", "1. I _Moved It (I _Moved It)", "2. I Co_pied It (I Co_pied It) [default]"]
            : ["0. Cancel (Cancel)", "1. I _moved it (I _moved it)", "2. I _copied it (I _copied it) [default]"]
        let body = modern
            ? ["msg.uuid.altered:This virtual machine might have been moved or copied.", "",
               "In order to configure certain management and networking features, VMware ESX needs to know if this virtual machine was moved or copied.",
               "", "If you don't know, answer \"I Co_pied It\"."]
            : ["msg.uuid.altered:This virtual machine may have been moved or copied.", "",
               "In order to configure certain management and networking features VMware ESX needs to know which.", "",
               "Did you move this virtual machine, or did you copy it?", "If you don't know, answer \"I copied it\"."]
        return .text((["Virtual machine message \(question.id):"] + body + choices).joined(separator: "\n") + "\n")
    }

    static func register(_ arguments: [String], on host: String, hostIndex: Int, fleet: inout Fleet) -> CommandOutput {
        guard let pathText = arguments.first else { return .failure("Insufficient arguments.\n") }
        let notFound = CommandOutput.fault(Render.fault("vim.fault.NotFound", message: "The object or item referred to could not be found."))
        guard let path = DatastorePath(pathText), path.relativePath.hasSuffix(".vmx") else {
            return .fault(Render.fault("vim.fault.InvalidDatastorePath", members: [("datastorePath", "\"\(pathText)\"")],
                                       message: "Invalid datastore path '\(pathText)'."))
        }
        guard let datastore = fleet.datastoreIndex(path.datastore), fleet.datastores[datastore].isMounted(on: host),
              !(fleet.hosts[hostIndex].refusesRegistrationFrom ?? []).contains(fleet.datastores[datastore].name) else { return notFound }
        let datastoreName = fleet.datastores[datastore].name
        guard let index = fleet.vms.firstIndex(where: { $0.datastore == datastoreName && $0.path == path.relativePath && !$0.isTemplate }) else {
            return notFound
        }
        if let registration = fleet.vms[index].registration, registration.host == host {
            return .fault(Render.fault("vim.fault.AlreadyExists", members: [("name", "\"\(registration.vmid)\"")],
                                       message: "The specified key, name, or identifier '\(registration.vmid)' already exists."))
        }
        let vmid = fleet.hosts[hostIndex].nextVmid
        fleet.hosts[hostIndex].nextVmid += 1
        if let later = fleet.vms[index].registersLateAfter {
            // hostd took the request; the client's connection dies before the answer.
            fleet.vms[index].registersLateAfter = nil
            fleet.pendingLandings = (fleet.pendingLandings ?? []) + [Fleet.Landing(vm: fleet.vms[index].name, host: host, vmid: vmid, due: fleet.commandCount + later)]
            var dropped = CommandOutput()
            dropped.dropsConnection = true
            return dropped
        }
        // The dead host's stale registration is forgotten: ESXi only knows its own inventory.
        fleet.vms[index].registration = SimVM.Registration(host: host, vmid: vmid)
        // A fresh registration from readable files is valid, whatever became of the old one.
        fleet.vms[index].invalid = false
        if arguments.count > 1 { fleet.vms[index].name = arguments[1] }
        fleet.changeLog.append("\(host): registervm \(fleet.vms[index].name)")
        return .text("\(vmid)\n")
    }

    /// `vmsvc/get.guest`: what VMware Tools report. Tools run once the guest has booted
    /// (virtual time); a VM without Tools says toolsNotInstalled. Unset fields print `<unset>`.
    static func guestInfo(_ vm: SimVM, fleet: Fleet) -> CommandOutput {
        let running = fleet.toolsRunning(vm)
        let installed = vm.hasTools != false
        let family = CommandDurations.family(of: vm.guestOS)
        func text(_ value: String?) -> String { value.map { "\"\($0)\"" } ?? "<unset>" }
        let fields: [(String, String)] = [
            ("toolsStatus", text(!installed ? "toolsNotInstalled" : running ? "toolsOk" : "toolsNotRunning")),
            ("toolsVersionStatus", text(installed ? "guestToolsUnmanaged" : "guestToolsNotInstalled")),
            ("toolsVersionStatus2", text(installed ? "guestToolsUnmanaged" : "guestToolsNotInstalled")),
            ("toolsRunningStatus", text(running ? "guestToolsRunning" : "guestToolsNotRunning")),
            ("toolsVersion", text(installed ? "12352" : "0")),
            ("toolsInstallType", installed ? text("guestToolsTypeOpenVMTools") : "<unset>"),
            ("guestId", running ? text(vm.guestOS) : "<unset>"),
            ("guestFamily", running ? text(family == "other" ? "otherGuestFamily" : "\(family)Guest") : "<unset>"),
            ("hostName", running ? text(vm.name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" }) : "<unset>"),
            ("ipAddress", "<unset>"),
            ("guestState", text(running ? "running" : "notRunning")),
        ]
        let body = fields.map { "   \($0.0) = \($0.1)" }.joined(separator: ", \n")
        return .text("Guest information:\n\n(vim.vm.GuestInfo) {\n\(body)\n}\n")
    }

    static func hostSummary(_ host: SimHost, fleet: Fleet) -> CommandOutput {
        .text("""
        (vim.host.Summary) {
           host = 'vim.HostSystem:ha-host', 
           hardware = (vim.host.Summary.HardwareSummary) {
              vendor = "Dell Inc.", 
              model = "PowerEdge R750", 
              memorySize = \(Int64(host.memoryMB) * 1_048_576), 
              numCpuCores = \(host.cpuCores), 
           }, 
           runtime = (vim.host.RuntimeInfo) {
              connectionState = "connected", 
              powerState = "poweredOn", 
              inMaintenanceMode = \(host.maintenanceMode), 
           }, 
           quickStats = (vim.host.Summary.QuickStats) {
              overallCpuUsage = 0, 
              overallMemoryUsage = \(fleet.memoryInUse(on: host.name)), 
           }, 
           config = (vim.host.Summary.ConfigSummary) {
              name = "\(host.name)", 
              port = 443, 
              product = (vim.AboutInfo) {
                 name = "VMware ESXi", 
                 version = "\(host.version)", 
                 build = "\(host.build)"
              }
           }
        }

        """)
    }
}
