import Foundation

/// What a run accumulates besides item outcomes: the plan (dry-run) and the approvals taken.
actor RunRecords {
    private(set) var plan: [PlanEntry] = []
    private(set) var approvals: [RunSummary.ApprovalRecord]

    init(approvals: [RunSummary.ApprovalRecord] = []) {
        self.approvals = approvals
    }

    func addPlan(_ entry: PlanEntry, events: EventSink) async {
        var numbered = entry
        numbered.sequence = plan.count + 1
        plan.append(numbered)
        await events.emit(.planned(numbered))
    }

    func addApproval(_ record: RunSummary.ApprovalRecord) {
        approvals.append(record)
    }
}
