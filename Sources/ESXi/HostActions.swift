import DrctlCore

/// Host-level actions: maintenance mode, management services, vmkping and the version.
enum HostActions {
    static let service = ActionParameter("service", .choice(ManagementService.allCases.map(\.rawValue)), "hostd or vpxa")

    static func managementService(_ arguments: ActionArguments) throws -> ManagementService {
        let text = try arguments.text("service")
        guard let service = ManagementService(rawValue: text) else {
            throw ActionArgumentError.wrongKind("service", expected: "hostd or vpxa", got: text)
        }
        return service
    }

    static let maintenanceGet = ESXiAction(
        name: "host.maintenance.get", summary: "Read whether the host is in maintenance mode.", mutates: false,
        outputs: ["enabled"],
        plan: { _ in [ESXiCommand.maintenanceModeGet] },
        perform: { _, shell in
            ["enabled": .bool(try MaintenanceModeParser.parse(try await shell.checked(ESXiCommand.maintenanceModeGet).stdout))]
        })

    static let maintenanceSet = ESXiAction(
        name: "host.maintenance.set", summary: "Enter or leave maintenance mode.",
        parameters: [ActionParameter("enabled", .boolean, "true to enter, false to leave")], mutates: true, outputs: [],
        plan: { arguments in [ESXiCommand.maintenanceModeSet(enabled: try arguments.boolean("enabled"))] },
        perform: { arguments, shell in
            _ = try await shell.checked(ESXiCommand.maintenanceModeSet(enabled: try arguments.boolean("enabled")))
            return [:]
        },
        verify: { arguments, shell in
            let current = try MaintenanceModeParser.parse(try await shell.checked(ESXiCommand.maintenanceModeGet).stdout)
            return current == (try arguments.boolean("enabled")) ? [:] : nil
        })

    static let serviceStatus = ESXiAction(
        name: "service.status", summary: "Read whether hostd or vpxa runs.", parameters: [service], mutates: false,
        outputs: ["running"],
        plan: { arguments in [ESXiCommand.serviceStatus(try managementService(arguments))] },
        perform: { arguments, shell in
            let service = try managementService(arguments)
            // `status` exits non-zero when the service is stopped; the text is what counts.
            let output = try await shell.run(ESXiCommand.serviceStatus(service))
            return ["running": .bool(try ServiceStatusParser.parse(output.combined, service: service))]
        })

    static let serviceRestart = ESXiAction(
        name: "service.restart", summary: "Restart hostd or vpxa (running VMs are not affected).", parameters: [service],
        mutates: true, outputs: ["running"],
        plan: { arguments in
            let service = try managementService(arguments)
            return [ESXiCommand.serviceRestart(service), ESXiCommand.serviceStatus(service)]
        },
        perform: { arguments, shell in
            let service = try managementService(arguments)
            // The restart's last words differ by version ("vpxa started." on 6.x+, "vpxa is running"
            // on 5.x): what counts is the service's status afterwards, read by its status command.
            _ = try await shell.checked(ESXiCommand.serviceRestart(service))
            let status = try await shell.run(ESXiCommand.serviceStatus(service))
            guard try ServiceStatusParser.parse(status.combined, service: service) else {
                throw ESXiCommandFailed(command: ESXiCommand.serviceStatus(service), output: status)
            }
            return ["running": true]
        })

    static let vmkping = ESXiAction(
        name: "net.vmkping", summary: "Ping an address from the host's VMkernel, optionally through one vmk interface.",
        parameters: [ActionParameter("target", .text, "the address to ping"),
                     ActionParameter("interface", .text, required: false, "the vmk interface, e.g. vmk0")],
        mutates: false, outputs: ["reachable", "received", "transmitted", "avg_ms"],
        plan: { arguments in [ESXiCommand.vmkping(target: try arguments.text("target"), interface: arguments.optionalText("interface"))] },
        perform: { arguments, shell in
            // vmkping exits 1 when nothing answers: that is a result, not a failure.
            let output = try await shell.run(ESXiCommand.vmkping(target: try arguments.text("target"), interface: arguments.optionalText("interface")))
            let ping = try VmkpingParser.parse(output.combined)
            return ["reachable": .bool(ping.reachable), "received": .int(ping.received), "transmitted": .int(ping.transmitted),
                    "avg_ms": ping.averageMilliseconds.map(Value.number) ?? .null]
        })

    static let summary = ESXiAction(
        name: "host.summary", summary: "Read the host's memory, memory in use, CPU cores and maintenance mode (for placement).",
        mutates: false, outputs: ["hosts", "free_memory_mb"],
        plan: { _ in [ESXiCommand.hostSummary] },
        perform: { _, shell in
            let summary = try HostSummaryParser.parse(try await shell.checked(ESXiCommand.hostSummary).stdout)
            // A one-entry list, so the summaries of several hosts add up to one list of hosts.
            return ["hosts": [["memory_mb": .int(summary.memoryMB), "used_memory_mb": .int(summary.memoryUsedMB),
                               "free_memory_mb": .int(summary.freeMemoryMB), "cpu_cores": .int(summary.cpuCores),
                               "maintenance": .bool(summary.inMaintenanceMode)]],
                    "free_memory_mb": .int(summary.freeMemoryMB)]
        })

    static let version = ESXiAction(
        name: "host.version", summary: "Read the ESXi version and build.", mutates: false,
        outputs: ["product", "version", "build", "summary"],
        plan: { _ in [ESXiCommand.versionGet] },
        perform: { _, shell in
            let version = try VersionParser.parse(try await shell.checked(ESXiCommand.versionGet).stdout)
            return ["product": .string(version.product), "version": .string(version.version), "build": .string(version.build),
                    "summary": .string(version.summary)]
        })
}
