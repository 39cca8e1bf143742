public import PorticoCore
public import PorticoStore
import Testing

/// The scenario corpus on a durable store, as the SQLite and PostgreSQL suites run it: a scenario
/// straight through, or with the core restarted from a checkpoint of its state (and the store reopened)
/// wherever the scenario turns from changes to checks; at the end, the store opened once more must
/// give the same state. Differences are recorded as issues of the running test.
public struct ScenarioOnStore<Store: ChangeStore & CheckpointingStore> {
    /// Opens the store (again, after a restart).
    public var open: () async throws -> Store
    /// Opens the store for the check at the end (without its checkpoints, where the store can).
    public var openAtEnd: () async throws -> Store
    public var close: (Store) async -> Void

    public init(
        open: @escaping () async throws -> Store, openAtEnd: (() async throws -> Store)? = nil,
        close: @escaping (Store) async -> Void
    ) {
        self.open = open
        self.openAtEnd = openAtEnd ?? open
        self.close = close
    }

    /// Runs the corpus file `file`; with `restarting`, restarts the core at each turn to checks.
    public func run(_ file: String, restarting: Bool) async throws {
        let scenario = try ScenarioCorpus.load(file)
        let clock = ManualClock()
        var store = try await open()
        var runner = CoreScenarioRunner(
            portico: try await Portico.open(store: store, clock: clock), clock: clock, file: file)
        var restarts = 0
        var changedSinceRestart = false
        for (index, step) in scenario.steps.enumerated() {
            if step.op.isRead, changedSinceRestart, restarting {
                // Restarted from a checkpoint of the state (with the changes since an earlier checkpoint
                // in the log, from the second restart on): it must rebuild the very same state.
                let before = runner.portico.snapshot.state
                try await store.writeCheckpoint(before, now: clock.now())
                await close(store)
                store = try await open()
                let recovery = try await store.recover()
                #expect(
                    recovery.base?.revision == before.revision && recovery.changes.isEmpty,
                    "\(file) step \(index + 1): start-up from the checkpoint")
                // The same runner on the reopened core: the names bound so far still stand.
                runner.portico = try await Portico.open(store: store, clock: clock)
                #expect(runner.portico.snapshot.state == before, "\(file) step \(index + 1): state after restart")
                restarts += 1
                changedSinceRestart = false
            }
            if step.op.isChange { changedSinceRestart = true }
            for mismatch in try await runner.run(step, number: index + 1) {
                Issue.record(Comment(rawValue: "\(mismatch.text) [restarted \(restarts)x]"))
            }
        }
        let final = runner.portico.snapshot.state
        await close(store)
        let again = try await openAtEnd()
        #expect(try await Portico.open(store: again, clock: clock).snapshot.state == final, "\(file): state at the end")
        await close(again)
    }
}
