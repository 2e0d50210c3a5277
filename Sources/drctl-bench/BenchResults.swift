import Foundation

/// The figures of one `make bench` run, measured side by side on one machine (a shared machine is
/// noisy: ratios measured in one run are stable, absolute times are not), printed as they come
/// and written to `bench/results.md`.
final class BenchResults {
    /// How many times each figure is measured (at least 5; `BENCH_RUNS` raises it).
    static let runs = max(5, Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 5)

    struct Row {
        var name: String
        /// Median, min, max; or a single derived figure (a ratio) with no spread.
        var median: String
        var range: String
        var target: String
        var verdict: String
    }

    struct Section {
        var title: String
        var about: String
        var rows: [Row] = []
        var notes: [String] = []
    }

    private(set) var sections: [Section] = []
    let started = Date()

    func section(_ title: String, _ about: String) {
        sections.append(Section(title: title, about: about))
        say("\n## \(title)")
    }

    /// A measured figure: `values` from `runs` runs, printed with `format`.
    func add(_ name: String, _ values: [Double], format: (Double) -> String, target: String = "", met: ((Double) -> Bool)? = nil) {
        let sorted = values.sorted()
        let median = sorted[sorted.count / 2]
        let verdict = met.map { $0(median) ? "met" : "**missed**" } ?? ""
        let row = Row(name: name, median: format(median), range: "\(format(sorted.first!)) – \(format(sorted.last!))", target: target, verdict: verdict)
        append(row)
    }

    /// A figure derived from medians (a ratio, a bound): no spread of its own.
    func add(_ name: String, value: String, target: String = "", met: Bool? = nil) {
        append(Row(name: name, median: value, range: "", target: target, verdict: met.map { $0 ? "met" : "**missed**" } ?? ""))
    }

    func note(_ text: String) {
        sections[sections.count - 1].notes.append(text)
        say("   " + text)
    }

    private func append(_ row: Row) {
        sections[sections.count - 1].rows.append(row)
        let spread = row.range.isEmpty ? "" : "  (\(row.range))"
        let goal = row.target.isEmpty ? "" : "  goal \(row.target): \(row.verdict.replacingOccurrences(of: "*", with: ""))"
        say(row.name.padding(toLength: 62, withPad: " ", startingAt: 0) + row.median + spread + goal)
    }

    func markdown(machine: [(String, String)]) -> String {
        var text = """
        # drctl benchmarks

        Written by `make bench` (the `make release` build: Swift's runtime linked in) on \(ISO8601DateFormatter().string(from: started)). Each figure is the
        median of \(Self.runs) runs, with the fastest and slowest run; the comparisons in a section ran side
        by side in the same run, so their ratios hold even on a busy machine. Goals are from issue 15.

        ## The machine

        | | |
        | --- | --- |

        """
        text += machine.map { "| \($0.0) | \($0.1.replacingOccurrences(of: "|", with: "\\|")) |\n" }.joined()
        for section in sections {
            text += "\n## \(section.title)\n\n\(section.about)\n\n"
            text += "| figure | median | min – max | goal | |\n| --- | --- | --- | --- | --- |\n"
            text += section.rows.map { "| \($0.name) | \($0.median) | \($0.range) | \($0.target) | \($0.verdict) |\n" }.joined()
            if !section.notes.isEmpty { text += "\n" + section.notes.map { "- \($0)\n" }.joined() }
        }
        // What limits the goals still missed: found by profiling, kept by hand next to the figures.
        if let limits = try? String(contentsOfFile: "bench/limits.md", encoding: .utf8) { text += "\n" + limits }
        return text
    }
}

/// What `/usr/bin/time` says of one process.
struct ProcessFigures {
    var wall: Double
    var user: Double
    var system: Double
    var peakRSSMegabytes: Double
    var status: Int32
    var cpu: Double { user + system }
}

/// Runs a process under `/usr/bin/time` (its CPU time and peak RSS are the process's own, start-up
/// included, as an operator would see them). Its output goes to `stdout` (a path), else nowhere.
func timedProcess(_ executable: String, _ arguments: [String], stdout: String? = nil, environment: [String: String]? = nil) throws -> ProcessFigures {
    let figures = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bench-time-\(UUID().uuidString.prefix(8))").path
    defer { try? FileManager.default.removeItem(atPath: figures) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
    process.arguments = ["-f", "%e %U %S %M", "-o", figures, executable] + arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let stdout {
        FileManager.default.createFile(atPath: stdout, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdout)
    } else {
        process.standardOutput = FileHandle.nullDevice
    }
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    // time writes "Command exited with non-zero status N" before the figures when it fails.
    let line = (try String(contentsOfFile: figures, encoding: .utf8)).split(separator: "\n").last ?? ""
    let fields = line.split(separator: " ").compactMap { Double($0) }
    guard fields.count == 4 else { throw BenchError("no figures from /usr/bin/time for \(executable) \(arguments.joined(separator: " "))") }
    return ProcessFigures(wall: fields[0], user: fields[1], system: fields[2], peakRSSMegabytes: fields[3] / 1024, status: process.terminationStatus)
}

/// Runs `body` `BenchResults.runs` times; the figures of each run.
func repeated<T>(_ body: () async throws -> T) async rethrows -> [T] {
    var results: [T] = []
    for _ in 0..<BenchResults.runs { results.append(try await body()) }
    return results
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// How a figure reads in the table.
enum Unit {
    static func seconds(_ value: Double) -> String { value >= 10 ? String(format: "%.1f s", value) : value >= 1 ? String(format: "%.2f s", value) : String(format: "%.0f ms", value * 1000) }
    static func megabytes(_ value: Double) -> String { String(format: "%.0f MB", value) }
    static func microseconds(_ value: Double) -> String { String(format: "%.0f µs", value) }
    static func milliseconds(_ value: Double) -> String { String(format: "%.2f ms", value) }
    static func perSecond(_ value: Double) -> String { value >= 10_000 ? String(format: "%.0fk/s", value / 1000) : String(format: "%.0f/s", value) }
    static func ratio(_ value: Double) -> String { String(format: "%.2f×", value) }
    static func bytes(_ value: Double) -> String { String(format: "%.0f B", value) }
}

/// This machine, for the reader of the figures.
func machineDescription() -> [(String, String)] {
    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    func output(_ command: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " 2>&1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    }
    let cpu = read("/proc/cpuinfo").split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
    let memory = read("/proc/meminfo").split(separator: "\n").first { $0.hasPrefix("MemTotal") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
    return [
        ("CPU", "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores available"),
        ("memory", "\(memory / 1024 / 1024) GB"),
        ("system", output("uname -sr") + ", " + output(". /etc/os-release && echo $PRETTY_NAME")),
        ("load at start", read("/proc/loadavg").split(separator: " ").prefix(3).joined(separator: " ") + " (1, 5, 15 min; the machine is shared)"),
        ("Swift", output("swift --version")),
        ("OpenSSH", output("ssh -V")),
        ("libssh2", output("dpkg-query -W -f '${Version}' libssh2-1-dev")),
    ]
}

/// Printed at once, not when stdio's buffer fills: progress shows through a pipe.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
