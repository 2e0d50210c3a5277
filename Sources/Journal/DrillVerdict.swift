import Foundation

/// A drill's own verdict, journaled as its last line (`drill-verdict`) so the record says
/// whether the drill passed, not only how the run ended: the scenario's checks of the end state
/// with their results, and the faults the simulator injected.
public struct DrillVerdict: Sendable, Equatable {
    public struct Check: Sendable, Equatable {
        public var expectation: String
        public var passed: Bool
        public var detail: String

        public init(expectation: String, passed: Bool, detail: String) {
            self.expectation = expectation
            self.passed = passed
            self.detail = detail
        }
    }

    /// `passed`, `failed`, `not-checked` (the scenario checks nothing of the end state),
    /// `stopped-by-decision` (a person denied an approval) or `not-finished` (the run paused; a
    /// resume decides).
    public var verdict: String
    public var summary: String
    public var outcome: String
    public var expectedOutcome: String
    public var checks: [Check]
    public var faults: [String]
    /// In virtual time: the predicted recovery as the drill report printed it (when each
    /// priority group is back, the critical path), for `drctl report`.
    public var prediction: [String]

    public init(verdict: String, summary: String, outcome: String, expectedOutcome: String, checks: [Check], faults: [String], prediction: [String] = []) {
        self.verdict = verdict
        self.summary = summary
        self.outcome = outcome
        self.expectedOutcome = expectedOutcome
        self.checks = checks
        self.faults = faults
        self.prediction = prediction
    }

    var fields: [String: Any] {
        ["type": "drill-verdict", "verdict": verdict, "summary": summary, "outcome": outcome, "expected_outcome": expectedOutcome,
         "checks": checks.map { ["expectation": $0.expectation, "passed": $0.passed, "detail": $0.detail] as [String: Any] }, "faults": faults,
         "prediction": prediction]
    }

    init?(entry: [String: Any]) {
        guard entry["type"] as? String == "drill-verdict" else { return nil }
        verdict = entry["verdict"] as? String ?? "?"
        summary = entry["summary"] as? String ?? ""
        outcome = entry["outcome"] as? String ?? ""
        expectedOutcome = entry["expected_outcome"] as? String ?? ""
        checks = ((entry["checks"] as? [[String: Any]]) ?? []).map {
            Check(expectation: $0["expectation"] as? String ?? "", passed: $0["passed"] as? Bool ?? false, detail: $0["detail"] as? String ?? "")
        }
        faults = entry["faults"] as? [String] ?? []
        prediction = entry["prediction"] as? [String] ?? []
    }
}

extension JournalWriter {
    /// The drill's verdict, after its run ended and before the journal closes.
    public func record(_ verdict: DrillVerdict) async {
        await recordExtra(verdict.fields)
    }
}
