import Foundation
import RunbookFormat
import Simulator

/// 1,000 short commands over 10 hosts, 10 at a time, against real OpenSSH sshd ports on 127.0.0.1:
/// drctl (libssh2, one session per host) side by side with one `ssh` per command, OpenSSH
/// ControlMaster multiplexing and Ansible's `raw` module, in the same run.
func fanOutBenchmark(_ results: BenchResults, drctl: String, work: String) async throws {
    results.section("SSH fan-out against OpenSSH and Ansible",
                    "1,000 × `vim-cmd vmsvc/power.getstate N` over 10 hosts (ports of one OpenSSH sshd on 127.0.0.1, each answering by a `ForceCommand` echo, run by a throwaway user whose shell is /bin/sh), 10 at a time. drctl runs `bench/fan-out.yaml` over an inventory of 10 hosts and 1,000 VMs (journaled, as any run); the others are `xargs -P 10` over one `ssh` per command, the same with ControlMaster (`ControlPersist`, masters opened by the first command to each host), and an Ansible playbook of `raw` tasks with forks 10 and ControlPersist.")
    let hosts = (1...10).map { "esxi-" + String(format: "%02d", $0) }
    let scenario = try ScenarioLoader.load(text: "scenario: fan-out\nhosts:\n" + hosts.enumerated().map { "  - { name: \($1), address: 10.30.0.\($0 + 10) }\n" }.joined(), file: "fan-out.yaml")
    let fleet = try FleetBehindSSHD.start(scenario, drctl: "/bin/false", forceCommand: "echo Retrieved runtime info; echo Powered on")
    defer { fleet.stop() }
    var inventory = fleet.inventory
    let commands = 1000
    inventory.vms = (1...commands).map { Inventory.VM(name: String($0), host: hosts[($0 - 1) % hosts.count]) }
    let inventoryPath = "\(work)/fan-out-inventory.yaml"
    try InventoryWriter.yaml(inventory).write(toFile: inventoryPath, atomically: true, encoding: .utf8)
    let ssh = OpenSSHClients(inventory: inventory, work: work)
    try ssh.writeCommandList()
    let ansible = try AnsibleClient(inventory: inventory, work: work)

    // Side by side: each round runs every client once, so a busy moment hits them all alike.
    var figures: [String: [ProcessFigures]] = [:]
    for round in 0..<BenchResults.runs {
        figures["drctl", default: []].append(try timedProcess(drctl, ["run", "bench/fan-out.yaml", "--inventory", inventoryPath, "--runs-dir", "\(work)/fan-out-runs-\(round)"]))
        figures["ssh", default: []].append(try timedProcess("/bin/sh", ["-c", ssh.perCommand]))
        figures["controlmaster", default: []].append(try timedProcess("/bin/sh", ["-c", ssh.multiplexed]))
        try? ssh.closeMasters()
        if let ansible { figures["ansible", default: []].append(try timedProcess("/bin/sh", ["-c", ansible.command])) }
    }
    for (name, runs) in figures.sorted(by: { $0.key < $1.key }) where runs.contains(where: { $0.status != 0 }) {
        let output = name == "ansible" ? ": " + ((try? String(contentsOfFile: "\(work)/ansible-output.txt", encoding: .utf8)) ?? "").split(separator: "\n").suffix(2).joined(separator: " / ") : ""
        results.note("\(name) failed in \(runs.filter { $0.status != 0 }.count) of \(runs.count) runs (exit \(runs.first { $0.status != 0 }!.status))\(output).")
    }
    let median = { (name: String) -> Double in figures[name].map { $0.map(\.wall).sorted()[$0.count / 2] } ?? .nan }
    results.add("drctl: wall time", figures["drctl"]!.map(\.wall), format: Unit.seconds)
    results.add("one ssh per command: wall time", figures["ssh"]!.map(\.wall), format: Unit.seconds)
    results.add("ssh with ControlMaster: wall time", figures["controlmaster"]!.map(\.wall), format: Unit.seconds)
    if figures["ansible"] != nil {
        results.add("Ansible raw, forks 10, ControlPersist: wall time", figures["ansible"]!.map(\.wall), format: Unit.seconds)
    } else {
        results.note("Ansible was not measured: ansible-core is not installed in .build/ansible (make bench installs it from PyPI).")
    }
    let ratio = median("drctl") / median("controlmaster")
    results.add("drctl / ControlMaster", value: Unit.ratio(ratio), target: "≤ 0.30×", met: ratio <= 0.3)
    results.add("drctl / one ssh per command", value: Unit.ratio(median("drctl") / median("ssh")))
    if figures["ansible"] != nil { results.add("drctl / Ansible", value: Unit.ratio(median("drctl") / median("ansible"))) }
    results.add("drctl CPU per command (user + sys)", figures["drctl"]!.map { $0.cpu / Double(commands) * 1000 }, format: Unit.milliseconds, target: "≤ 0.30 ms", met: { $0 <= 0.3 })
    results.add("drctl peak RSS", figures["drctl"]!.map(\.peakRSSMegabytes), format: Unit.megabytes)
}

/// `ssh` from a shell, per command and multiplexed, with the fleet's key and known hosts.
struct OpenSSHClients {
    let inventory: Inventory
    let work: String
    var commands: String { "\(work)/fan-out-commands.txt" }

    func writeCommandList() throws {
        try inventory.vms.map { vm in "\(inventory.hosts.first { $0.name == vm.host }!.port) \(vm.name)\n" }.joined()
            .write(toFile: commands, atomically: true, encoding: .utf8)
    }

    private var options: String {
        let host = inventory.hosts[0]
        guard case .keyFile(let key, _) = host.auth else { return "" }
        return "-i \(key) -l \(host.user) -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=\(inventory.knownHosts!) -o LogLevel=ERROR"
    }

    var perCommand: String {
        "xargs -P 10 -L 1 sh -c 'ssh \(options) -p \"$0\" 127.0.0.1 vim-cmd vmsvc/power.getstate \"$1\" >/dev/null' < \(commands)"
    }

    var multiplexed: String {
        "xargs -P 10 -L 1 sh -c 'ssh \(options) -o ControlMaster=auto -o ControlPersist=60 -o ControlPath=\(work)/cm-%p -p \"$0\" 127.0.0.1 vim-cmd vmsvc/power.getstate \"$1\" >/dev/null' < \(commands)"
    }

    /// Ends the masters, so that the next round opens its own.
    func closeMasters() throws {
        for host in inventory.hosts {
            _ = try? timedProcess("/bin/sh", ["-c", "ssh \(options) -o ControlPath=\(work)/cm-%p -p \(host.port) -O exit 127.0.0.1"])
        }
    }
}

/// ansible-core from `.build/ansible` (a virtual environment `make bench` makes): a playbook of
/// `raw` tasks, 100 per host, forks 10, ControlPersist.
struct AnsibleClient {
    let command: String

    init?(inventory: Inventory, work: String) throws {
        let playbook = ".build/ansible/bin/ansible-playbook"
        guard FileManager.default.isExecutableFile(atPath: playbook) else { return nil }
        guard case .keyFile(let key, _) = inventory.hosts[0].auth else { return nil }
        try inventory.hosts.map { host in
            "\(host.name) ansible_host=127.0.0.1 ansible_port=\(host.port) ansible_user=\(host.user) ansible_ssh_private_key_file=\(key)\n"
        }.joined().write(toFile: "\(work)/ansible-hosts.ini", atomically: true, encoding: .utf8)
        let vmsByHost = Dictionary(grouping: inventory.vms, by: { $0.host ?? "" }).mapValues { $0.map(\.name) }
        try inventory.hosts.map { host in
            "\(host.name): { vms: [\(vmsByHost[host.name, default: []].joined(separator: ", "))] }\n"
        }.joined().write(toFile: "\(work)/ansible-vars.yaml", atomically: true, encoding: .utf8)
        try """
        - hosts: all
          gather_facts: false
          vars_files: [\(work)/ansible-vars.yaml]
          tasks:
            - raw: "vim-cmd vmsvc/power.getstate {{ item }}"
              loop: "{{ lookup('vars', inventory_hostname).vms }}"
        """.write(toFile: "\(work)/ansible-playbook.yaml", atomically: true, encoding: .utf8)
        try """
        [defaults]
        forks = 10
        host_key_checking = True
        [ssh_connection]
        ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=\(inventory.knownHosts!)
        control_path_dir = \(work)/ansible-cp
        """.write(toFile: "\(work)/ansible.cfg", atomically: true, encoding: .utf8)
        command = "ANSIBLE_CONFIG=\(work)/ansible.cfg \(playbook) -i \(work)/ansible-hosts.ini \(work)/ansible-playbook.yaml >\(work)/ansible-output.txt 2>&1"
    }
}
