import DrctlCore
import ESXi
import Foundation
import RunbookFormat

/// Runs a runbook's step graph against a transport.
///
/// Steps start as soon as what they need is done. A fan-out step that needs another fan-out over
/// the same list pipelines: its item *i* waits only for item *i* there (unless it says `barrier`).
/// With `order: priority`, items run by VM priority group and after the VMs they depend on.
/// A failure skips only what depends on it; independent branches finish.
public final class Engine: Sendable {
    let runbook: Runbook
    let inventory: Inventory
    let inventoryValue: Value
    let params: [String: Value]
    let options: RunOptions
    let runner: StepRunner
    let events: EventSink
    let records: RunRecords
    let resume: ResumeState?
    public let stop: StopSignal

    /// With `resume`, the items an interrupted attempt finished are kept, not run again, and the
    /// ones it left in flight are settled through their verify check (or the operator) first.
    /// `inventoryValue`: the inventory as templates see it, when the caller has built it already
    /// (`whatif` runs one inventory once per failure; at 10,000 VMs it is megabytes).
    public init(runbook: Runbook, inventory: Inventory, inventoryValue: Value? = nil, params: [String: Value], transport: any Transport,
                gate: any ApprovalGate, observers: [any RunObserver] = [], options: RunOptions = RunOptions(), resume: ResumeState? = nil) {
        self.runbook = runbook
        self.inventory = inventory
        self.inventoryValue = inventoryValue ?? inventory.templateValue
        self.params = params
        self.options = options
        self.resume = resume
        let stop = StopSignal()
        self.stop = stop
        let events = EventSink(observers: observers)
        self.events = events
        let records = RunRecords(approvals: resume?.approvals ?? [])
        self.records = records
        let limits = ConcurrencyLimits(maxParallel: options.maxParallel ?? runbook.limits.maxParallel ?? RunOptions.defaultMaxParallel,
                                       maxPerHost: options.maxPerHost ?? runbook.limits.maxPerHost ?? RunOptions.defaultMaxPerHost,
                                       hosts: inventory.hosts.map(\.name), clock: options.clock)
        runner = StepRunner(runbook: runbook, inventory: inventory, transport: transport, gate: gate, events: events, limits: limits, options: options,
                            stop: stop, records: records, inFlight: Set(resume.map { Array($0.inFlight.keys) } ?? []))
    }

    /// Stops dispatching: running commands finish or time out, nothing new starts (Ctrl-C).
    public func requestStop() { stop.request() }

    public func run() async -> RunSummary {
        // A resumed run's recovery time counts from its first start, the interruption included.
        let clock = options.clock
        let started = resume?.runStarted ?? clock.date()
        let begun = clock.elapsed - .milliseconds(Int64(clock.date().timeIntervalSince(started) * 1000))
        if let resume {
            let inFlight = resume.inFlight.map { key, label in key.step + (label.isEmpty ? "" : " [\(label)]") }.sorted()
            await events.emit(.runResumed(runbook: runbook.name, restored: resume.finished.count, inFlight: inFlight))
        } else {
            await events.emit(.runStarted(runbook: runbook.name, dryRun: options.dryRun, params: params))
        }
        var lostRecord: String?
        let graph = SchedulerState(runbook: runbook, inventory: inventory, baseRoots: baseRoots(), restored: resume?.finished ?? [:])
        await withTaskGroup(of: (String, Int, ItemOutcome).self) { group in
            var running = 0
            while true {
                if !stop.isRequested {
                    let launchable = graph.launchable()
                    for (step, items) in graph.takeExpansions() { await events.emit(.stepExpanded(step: step, items: items)) }
                    for launch in launchable {
                        running += 1
                        clock.enter()  // the item's own token (virtual time: see VirtualClock)
                        // Each item records its own start and end, so a fan-out's events reach the
                        // journal together (one fsync for many) instead of one after another. The
                        // end is recorded before the scheduler lets anything that needs it start.
                        group.addTask { [runner, events] in
                            await events.emit(.itemStarted(step: launch.step.id, item: launch.item))
                            let outcome = await runner.run(launch)
                            await events.emit(.itemFinished(step: launch.step.id, item: launch.item, outcome: outcome))
                            return (launch.step.id, launch.item.index, outcome)
                        }
                    }
                }
                for (step, item, outcome) in graph.takeSettled() {
                    await events.emit(.itemFinished(step: step, item: item, outcome: outcome))
                }
                guard running > 0 else { break }
                // This task waits, its items work: it takes over the token of the one that ends.
                clock.leave()
                guard let (stepID, index, outcome) = await group.next() else { break }
                running -= 1
                graph.finish(stepID, index, outcome)
                // No record, no more work: what runs may end, nothing new starts.
                if lostRecord == nil, let lost = await events.recordLost() {
                    lostRecord = lost
                    stop.request()
                }
            }
        }
        graph.markUnreached(interrupted: stop.isRequested)
        for (step, item, outcome) in graph.takeSettled() {
            await events.emit(.itemFinished(step: step, item: item, outcome: outcome))
        }
        if lostRecord == nil { lostRecord = await events.recordLost() }
        var outcome = lostRecord != nil ? .recordLost : outcome(graph)
        var goal: GoalVerdict?
        if let goalSpec = runbook.goal, [.succeeded, .failed].contains(outcome) {
            goal = await GoalCheck(goal: goalSpec, runner: runner, events: events)
                .verdict(roots: graph.finalRoots(), unfinished: graph.unfinishedSteps(), stepsNotSucceeded: graph.stepsNotSucceeded(),
                         handedOff: handedOff(graph))
            outcome = goal!.outcome
        }
        var summary = RunSummary(runbook: runbook.name, outcome: outcome, steps: graph.results(), approvals: await records.approvals,
                                 plan: graph.listed(await records.plan), started: started, duration: clock.elapsed - begun, rto: runbook.rto)
        summary.goal = goal
        summary.recordLost = lostRecord
        if summary.outcome == .interrupted || summary.outcome == .awaitingApproval || summary.outcome == .recordLost {
            await events.emit(.runPaused(reason: summary.outcome.rawValue))
        }
        await events.emit(.runEnded(summary))
        return summary
    }

    private func baseRoots() -> [String: Value] {
        ["params": .map(params), "inventory": inventoryValue,
         "run": ["id": .string(options.runID), "dry_run": .bool(options.dryRun), "runbook": .string(runbook.name)]]
    }

    /// What manual steps (`hand_off:`) that went ahead took over, by label.
    private func handedOff(_ graph: SchedulerState) -> Set<String> {
        var labels = Set<String>()
        for step in graph.results() where runbook.step(step.id)?.handOff != nil {
            for (_, outcome) in step.items where outcome.isSuccess {
                for value in outcome.outputs["handed_off"]?.listValue ?? [] { labels.insert(GoalCheck.label(of: value, index: 0)) }
            }
        }
        return labels
    }

    /// The outcome from the steps alone; a goal, when the runbook has one, then decides between
    /// succeeded, partial, handed off and failed.
    private func outcome(_ graph: SchedulerState) -> RunSummary.Outcome {
        let statuses = graph.results().flatMap { $0.items.map(\.outcome) }
        if stop.abortReason != nil { return .failed }
        // Stopped by Ctrl-C, also at an approval prompt.
        if stop.isRequested, statuses.contains(where: { $0.status == .notStarted || $0.status == .awaitingApproval }) { return .interrupted }
        if options.dryRun {
            // A check allowed to fail (on_failure: continue) is a finding; a failed one leaves a hole in the plan.
            return statuses.contains(where: { $0.status == .failed }) ? .planIncomplete : .planned
        }
        if statuses.contains(where: { $0.status == .failed || $0.status == .denied }) { return .failed }
        if statuses.contains(where: { $0.status == .awaitingApproval }) { return .awaitingApproval }
        if statuses.contains(where: { $0.status == .notStarted }) { return .failed }
        return .succeeded
    }
}
