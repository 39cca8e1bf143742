import Foundation
import PorticoCore
import PorticoPostgres
import PorticoTestSupport
import Testing

/// The core's scenario corpus on the PostgreSQL log: once straight through, and once with the node
/// restarted (from a checkpoint in its data directory and the log after it) wherever the scenario
/// turns from changes to checks. One case at a time: each creates a database, which is heavy I/O for
/// PostgreSQL, and the whole suite runs beside timing-sensitive server tests on a 2-core machine.
@Suite("Scenario corpus on the PostgreSQL store", .serialized)
struct ScenarioOnPostgresTests {
    @Test("each scenario answers as written, restarted or not", arguments: ScenarioCorpus.files, [false, true])
    func scenario(_ file: String, restarting: Bool) async throws {
        let scenario = try ScenarioCorpus.load(file)
        let url = try await offThePool { try PostgresServer.shared().createDatabase("scenario") }
        let location = try PostgresLocation(url: url)
        let directory = TemporaryDirectory("pg-scenario")
        let clock = ManualClock()
        var log = try await PostgresChangeLog.open(location, dataDirectory: directory.path)
        var runner = CoreScenarioRunner(
            portico: try await Portico.open(store: log, clock: clock), clock: clock,
            file: file)
        var restarts = 0
        var changedSinceRestart = false
        for (index, step) in scenario.steps.enumerated() {
            if step.op.isRead, changedSinceRestart, restarting {
                let before = runner.portico.snapshot.state
                try await log.writeCheckpoint(before, now: clock.now())
                await log.close()
                log = try await PostgresChangeLog.open(location, dataDirectory: directory.path)
                let recovery = try await log.recover()
                #expect(
                    recovery.base?.revision == before.revision && recovery.changes.isEmpty,
                    "\(file) step \(index + 1): start-up from the checkpoint")
                runner.portico = try await Portico.open(store: log, clock: clock)
                #expect(runner.portico.snapshot.state == before, "\(file) step \(index + 1): state after restart")
                restarts += 1
                changedSinceRestart = false
            }
            if step.op.isChange { changedSinceRestart = true }
            for mismatch in try await runner.run(step, number: index + 1) {
                Issue.record(Comment(rawValue: "\(mismatch.text) [restarted \(restarts)x]"))
            }
        }
        // The whole log, replayed without a checkpoint, gives the same state.
        let final = runner.portico.snapshot.state
        await log.close()
        let fresh = try await PostgresChangeLog.open(location)
        #expect(try await Portico.open(store: fresh, clock: clock).snapshot.state == final, "\(file): state at the end")
        await fresh.close()
    }
}
