import Foundation
import FuzzTargets

// Built two ways. `make fuzz` builds it with `-sanitize=fuzzer -DDRCTL_LIBFUZZER`: libFuzzer
// drives the target named by DRCTL_FUZZ_TARGET. An ordinary build replays files through a
// target, to reproduce what the fuzzer found: `drctl-fuzz TARGET FILE...`.

#if DRCTL_LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzer(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Set before libFuzzer starts; read by the callback, which cannot capture.
nonisolated(unsafe) var fuzzedTarget = FuzzTarget.runbook

@main struct FuzzMain {
    static func main() {
        let name = ProcessInfo.processInfo.environment["DRCTL_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("set DRCTL_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))\n".utf8))
            exit(2)
        }
        fuzzedTarget = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzer(&argc, &argv) { start, count in
            fuzzedTarget.run(start.map { Data(bytes: $0, count: count) } ?? Data())
            return 0
        })
    }
}
#else
@main struct ReplayMain {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        // For .ci/fuzz: the targets, and the seed directories of one.
        if arguments.first == "--list" {
            print(FuzzTarget.allCases.map(\.rawValue).joined(separator: "\n"))
            return
        }
        // For .ci/fuzz: the seed directories of a target.
        if arguments.first == "--seeds", let name = arguments.dropFirst().first, let target = FuzzTarget(rawValue: name) {
            print(target.seedDirectories.joined(separator: " "))
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            print("usage: drctl-fuzz TARGET FILE...   (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")))")
            print("make fuzz builds the libFuzzer version and runs every target.")
            exit(2)
        }
        for file in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else {
                print("\(file): cannot read it")
                exit(2)
            }
            print("\(file): \(target.run(data))")
        }
    }
}
#endif
