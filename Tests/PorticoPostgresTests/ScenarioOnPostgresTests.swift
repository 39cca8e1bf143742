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
        let url = try await offThePool { try PostgresServer.shared().createDatabase("scenario") }
        let location = try PostgresLocation(url: url)
        let directory = TemporaryDirectory("pg-scenario")
        // At the end, the whole log replayed without a checkpoint gives the same state.
        try await ScenarioOnStore(
            open: { try await PostgresChangeLog.open(location, dataDirectory: directory.path) },
            openAtEnd: { try await PostgresChangeLog.open(location) },
            close: { await $0.close() }
        ).run(file, restarting: restarting)
    }
}
