import Foundation
import Testing

@testable import PorticoCore
@testable import PorticoStore

#if canImport(Glibc)
    import Glibc
    import PorticoTestSupport
#endif

/// `kill -9` of the real server while it writes a checkpoint and while it migrates the schema: the
/// next start-up finds every change, and never trusts half a file.
@Suite("Crash safety during checkpoints and migrations")
struct CrashDuringMaintenanceTests {
    static let key = "pok_" + String(repeating: "k", count: 40)

    /// A log of `count` assignments over a small world, as changes (revisions from 1), and its state.
    static func history(assignments count: Int) async throws -> ([Change], AccessState) {
        let memory = InMemoryChangeStore()
        let portico = try await Portico.open(store: memory, clock: ManualClock())
        let portfolio = PortfolioID(
            try await portico.execute(.createPortfolio(name: "big", tier: .none), as: .operator)
                .createdID!)
        var people: [PrincipalID] = []
        var assets: [AssetID] = []
        for index in 0..<20 {
            people.append(
                PrincipalID(
                    try await portico.execute(
                        .addPerson(portfolio, name: "p\(index)", role: .employee),
                        as: .operator
                    ).createdID!))
            assets.append(
                AssetID(
                    try await portico.execute(
                        .addAsset(portfolio, type: .adAccount, name: "a\(index)"),
                        as: .operator
                    ).createdID!))
        }
        var changes = memory.stored
        let tasks: [AssetTask] = [.manage, .advertise, .analyze]
        let time = Timestamp(milliseconds: 1_800_000_000_000)
        for index in 0..<count {
            let command = Command.assign(people[index % 20], assets[(index / 20) % 20], TaskSet(tasks[index % 3]))
            changes.append(
                Change(
                    revision: Revision(changes.count + 1), time: time, caller: .operator, command: command,
                    secretDigests: []))
        }
        return (changes, try AccessState.replay(changes))
    }

    @Test("kill -9 while a checkpoint is written: the next start-up ignores the torn file and loses nothing")
    func killDuringCheckpoint() async throws {
        let directory = TemporaryDirectory("crash-checkpoint")
        let (changes, state) = try await Self.history(assignments: 60_000)
        let store = try SQLiteStore(directory: directory.path)
        try await store.append(changes)
        await store.close()
        let files = CheckpointFiles(directory: directory.path)
        var killedMidWrite = 0
        for round in 1...3 {
            // Every change makes a checkpoint due: the server starts writing one within its first second.
            let process = try ServerProcess.launch(
                dataDirectory: directory.path, operatorKey: Self.key,
                extra: ["--checkpoint-every", "1"])
            let partial = directory.file(CheckpointFiles.name(state.revision) + ".partial")
            for _ in 0..<6000 where !FileManager.default.fileExists(atPath: partial) {
                try await Task.sleep(for: .milliseconds(5))
            }
            if FileManager.default.fileExists(atPath: partial) { killedMidWrite += 1 }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...20)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // Whatever is on disk now, start-up must rebuild the same state.
            let reopened = try SQLiteStore(directory: directory.path)
            let portico = try await Portico.open(store: reopened)
            #expect(portico.snapshot.state == state, "round \(round)")
            await reopened.close()
            // A file with a checkpoint's final name is always whole.
            for (_, path) in files.list() {
                #expect((try? CheckpointReader.read(path)) == state, "round \(round): \(path)")
            }
            for (_, path) in files.list() { unlink(path) }
        }
        #expect(killedMidWrite > 0, "the kill never came while the temporary file existed")
    }

    @Test("kill -9 during the schema migration: the file stays version 1 and the next start-up migrates it")
    func killDuringMigration() async throws {
        let directory = TemporaryDirectory("crash-migration")
        let (changes, state) = try await Self.history(assignments: 100_000)
        // A version 1 database, JSON rows, as the previous Portico wrote them.
        let path = directory.file(SQLiteStore.fileName)
        let connection = try SQLiteConnection(path: path)
        try Schema(migrations: Array(Schema.migrations.prefix(1))).migrate(connection)
        try connection.execute("BEGIN")
        let insert = try connection.prepare(
            "INSERT INTO changes (revision, time, operation, change) VALUES (?1, ?2, ?3, ?4)")
        let encoder = JSONEncoder()
        for change in changes {
            insert.reset()
            try insert.bind(1, Int64(change.revision))
            try insert.bind(2, change.time.milliseconds)
            try insert.bind(3, change.command.name)
            try insert.bind(4, Array(try encoder.encode(change)))
            _ = try insert.step()
        }
        insert.reset()
        try connection.execute("COMMIT")
        connection.close()

        // Killed as soon as the server says the migration has begun: not by a delay, which a loaded
        // machine may not meet.
        let process = try ServerProcess.launch(
            dataDirectory: directory.path, operatorKey: Self.key,
            waitingFor: "to schema version 2")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let check = try SQLiteConnection(path: path)
        #expect(try check.integer("PRAGMA user_version") == 1, "the kill came during the migration")
        #expect(
            try check.integer("SELECT count(*) FROM changes WHERE substr(change, 1, 1) = CAST('{' AS BLOB)")
                == Int64(changes.count), "every row is still JSON")
        check.close()

        let store = try SQLiteStore(directory: directory.path)
        #expect(try await store.integer("PRAGMA user_version") == 2)
        #expect(try await Portico.open(store: store).snapshot.state == state)
        await store.close()
    }
}
