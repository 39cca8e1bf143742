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
        let directory = TemporaryDirectory("scenario")
        try await ScenarioOnStore(
            open: { try SQLiteStore(directory: directory.path) },
            close: { await $0.close() }
        ).run(file, restarting: restarting)
    }
}
