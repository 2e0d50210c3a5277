import Engine
import Foundation
import Journal

/// `--events json`: each event as a JSON line on standard output, written whole and in order.
actor EventStream: RunObserver {
    private let run: String
    private let redactor: Redactor

    init(run: String, redactor: Redactor) {
        self.run = run
        self.redactor = redactor
    }

    func record(_ event: RunEvent) async {
        FileHandle.standardOutput.write(EventJSON.line(for: event, run: run, redactor: redactor))
    }
}
