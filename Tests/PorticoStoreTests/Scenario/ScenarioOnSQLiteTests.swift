import Foundation
import PorticoCore
import PorticoTestSupport
import Testing

@testable import PorticoStore

/// The core's scenario corpus on the SQLite store: once straight through, and once with the core
/// restarted from a checkpoint and the database file at every point where the scenario turns from
/// changes to checks.
@Suite("Scenario corpus on the SQLite store")
struct ScenarioOnSQLiteTests {
    @Test("the corpus is found")
    func corpus() { #expect(ScenarioCorpus.files.count >= 40) }

    @Test("each scenario answers as written, restarted or not", arguments: ScenarioCorpus.files, [false, true])
    func scenario(_ file: String, restarting: Bool) async throws {
        let scenario = try ScenarioCorpus.load(file)
        let directory = TemporaryDirectory("scenario")
        let clock = ManualClock()
        var store = try SQLiteStore(directory: directory.path)
        var runner = CoreScenarioRunner(
            portico: try await Portico.open(store: store, clock: clock),
            clock: clock,
            file: file
        )
        var restarts = 0
        var changedSinceRestart = false

        for (index, step) in scenario.steps.enumerated() {
            if step.op.isRead, changedSinceRestart, restarting {
                // Restarted from a checkpoint of the state (with the changes since an earlier checkpoint
                // in the log, from the second restart on): it must rebuild the very same state.
                let before = runner.portico.snapshot.state
                try await store.writeCheckpoint(before, now: clock.now())
                await store.close()
                store = try SQLiteStore(directory: directory.path)
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
        await store.close()
        store = try SQLiteStore(directory: directory.path)
        #expect(try await Portico.open(store: store, clock: clock).snapshot.state == final, "\(file): state at the end")
        await store.close()
    }
}
