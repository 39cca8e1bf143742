import Foundation
import PorticoTestSupport
import Testing

@testable import PorticoCore
@testable import PorticoStore

@Suite("SQLite store")
struct SQLiteStoreTests {
    /// Opens a core on the database in `directory`.
    static func open(_ directory: TemporaryDirectory, clock: ManualClock = ManualClock()) async throws -> (
        Portico, SQLiteStore
    ) {
        let store = try SQLiteStore(directory: directory.path)
        return (try await Portico.open(store: store, clock: clock), store)
    }

    @Test("a reopened store rebuilds the same state and revisions continue")
    func reopen() async throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let (portico, store) = try await Self.open(directory, clock: clock)
        let fixture = try await Fixture.make(portico)
        try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.advertise)), as: fixture.admin)
        let before = portico.snapshot.state
        await store.close()

        let (reopened, store2) = try await Self.open(directory, clock: clock)
        #expect(reopened.snapshot.state == before)
        #expect(try await store2.revision == before.revision)
        let next = try await reopened.execute(
            .addPerson(fixture.portfolio, name: "bob", role: .employee), as: fixture.admin)
        #expect(next.revision == before.revision + 1)
        let decision = try reopened.check(as: .operator, principal: fixture.alice, asset: fixture.ads, task: .advertise)
        #expect(decision.allowed)
        await store2.close()
    }

    @Test("the database holds token digests, never a token")
    func secretsHashedOnly() async throws {
        let directory = TemporaryDirectory()
        let (portico, store) = try await Self.open(directory)
        let fixture = try await Fixture.make(portico)
        let issued = try await portico.execute(
            .generateToken(
                fixture.bot, app: fixture.app, scopes: ScopeSet(.adsRead),
                expiry: .never), as: fixture.admin)
        let credential = try await portico.execute(.issueServiceCredential(name: "svc"), as: .operator)
        let secrets = try [#require(issued.secret), #require(credential.secret)]
        // Read the files while the WAL still holds the changes, then again after the checkpoint at close.
        func contents() throws -> Data {
            var data = Data()
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                data += (try? Data(contentsOf: URL(fileURLWithPath: directory.file(name)))) ?? Data()
            }
            return data
        }
        var snapshots = [try contents()]
        await store.close()
        snapshots.append(try contents())
        for data in snapshots {
            for secret in secrets {
                #expect(data.range(of: Data(secret.utf8)) == nil, "a secret is in the data directory")
                #expect(
                    data.range(of: Data(StoredEnums.bytes(SecretDigest(of: secret)))) != nil, "its digest is stored")
            }
        }
        // The secret still authenticates after a restart: the digest is enough.
        let (reopened, store2) = try await Self.open(directory)
        #expect(try reopened.authenticate(secrets[0]) == .systemUser(TokenID(issued.createdID!)))
        await store2.close()
    }

    @Test("a database from a newer schema is refused with a clear message")
    func newerSchemaRefused() async throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.path)
        try await store.execute("PRAGMA user_version = 99")
        await store.close()
        do {
            _ = try SQLiteStore(directory: directory.path)
            Issue.record("a newer schema was opened")
        } catch let error as StoreError {
            #expect(error.code == .newerSchema)
            #expect(error.message.contains("schema version 99"), "\(error)")
            #expect(error.message.contains("newer Portico"), "\(error)")
        }
    }

    @Test("another program's SQLite database is refused, not migrated")
    func foreignDatabaseRefused() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file(SQLiteStore.fileName))
        try connection.execute("CREATE TABLE other (x INTEGER)")
        connection.close()
        #expect(throws: StoreError.self) { try SQLiteStore(directory: directory.path) }
    }

    @Test("pending migrations run at start-up and keep the stored changes")
    func migrationRuns() async throws {
        let directory = TemporaryDirectory()
        let path = directory.file(SQLiteStore.fileName)
        let first = try SQLiteStore(path: path, schema: Schema(migrations: Schema.migrations))
        let portico = try await Portico.open(store: first)
        _ = try await Fixture.make(portico)
        let state = portico.snapshot.state
        await first.close()

        let next = Schema.Migration(summary: "a test table", sql: "CREATE TABLE notes (revision INTEGER) STRICT")
        let upgraded = try SQLiteStore(path: path, schema: Schema(migrations: Schema.migrations + [next]))
        #expect(try await Portico.open(store: upgraded).snapshot.state == state)
        try await upgraded.execute("INSERT INTO notes VALUES (1)")
        await upgraded.close()
        let connection = try SQLiteConnection(path: path)
        #expect(try connection.integer("PRAGMA user_version") == Int64(Schema.migrations.count + 1))
        connection.close()
    }

    @Test("WAL mode with synchronous FULL")
    func durabilitySettings() async throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.path)
        let connection = try SQLiteConnection(path: store.path)
        let mode = try connection.prepare("PRAGMA journal_mode")
        #expect(try mode.step() && mode.text(0) == "wal")
        connection.close()
        // synchronous is per connection: ask the store's own. 2 is FULL.
        #expect(try await store.integer("PRAGMA synchronous") == 2)
        await store.close()
    }

    /// A failure the disk or file system would cause, simulated on the store's own connection.
    enum Fault: String, CaseIterable, CustomTestStringConvertible {
        case diskFull
        case readOnly
        var testDescription: String { rawValue }
    }

    @Test("a failed commit reaches the caller and leaves memory and file unchanged", arguments: Fault.allCases)
    func failedCommit(_ fault: Fault) async throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let (portico, store) = try await Self.open(directory, clock: clock)
        let fixture = try await Fixture.make(portico)
        let before = portico.snapshot.state

        switch fault {
        case .diskFull:
            // No page beyond those in use: the next page the log needs is refused with SQLITE_FULL.
            try await store.execute("PRAGMA max_page_count = 1")
        case .readOnly:
            try await store.execute("PRAGMA query_only = 1")
        }
        var failure: PorticoError?
        for index in 0..<200 where failure == nil {
            do {
                try await portico.execute(
                    .addPerson(
                        fixture.portfolio, name: "p\(index)" + String(repeating: "x", count: 40),
                        role: .employee), as: fixture.admin)
            } catch let error as PorticoError {
                failure = error
            }
        }
        let error = try #require(failure)
        #expect(error.code == .unavailable)
        #expect(error.reason == "STORE_FAILED")
        // Whatever committed before the fault is in memory and in the file; nothing else is.
        let after = portico.snapshot.state
        #expect(try await store.revision == after.revision)
        #expect(portico.pendingRevision == after.revision)
        if fault == .readOnly { #expect(after == before) }

        // The fault lifted, the store goes on at the next revision.
        switch fault {
        case .diskFull: try await store.execute("PRAGMA max_page_count = 1073741823")
        case .readOnly: try await store.execute("PRAGMA query_only = 0")
        }
        let next = try await portico.execute(
            .addPerson(fixture.portfolio, name: "after", role: .employee),
            as: fixture.admin)
        #expect(next.revision == after.revision + 1)
        let final = portico.snapshot.state
        await store.close()
        let (reopened, store2) = try await Self.open(directory, clock: clock)
        #expect(reopened.snapshot.state == final)
        await store2.close()
    }

    @Test("changes that arrive together are committed in one transaction, each acknowledged after it")
    func groupCommit() async throws {
        let directory = TemporaryDirectory()
        let store = CountingStore(try SQLiteStore(directory: directory.path))
        let portico = try await Portico.open(store: store)
        // One portfolio per writer: a portfolio's own commands queue in its lane, one at a time.
        let writers = 20
        var portfolios: [PortfolioID] = []
        for index in 0..<writers {
            let created = try await portico.execute(.createPortfolio(name: "p\(index)", tier: .none), as: .operator)
            portfolios.append(PortfolioID(try #require(created.createdID)))
        }
        let base = portico.snapshot.revision
        let targets = portfolios
        store.holdNext()
        try await withThrowingTaskGroup(of: Revision.self) { group in
            group.addTask {
                try await portico.execute(.addPerson(targets[0], name: "a", role: .employee), as: .operator).revision
            }
            await store.waitUntilHeld()
            for portfolio in targets.dropFirst() {
                group.addTask {
                    try await portico.execute(.addPerson(portfolio, name: "a", role: .employee), as: .operator).revision
                }
            }
            // Every writer is accepted and queued behind the held transaction before it goes on.
            let deadline = ContinuousClock.now + .seconds(30)
            while portico.pendingRevision < base + Revision(writers), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            #expect(portico.pendingRevision == base + Revision(writers))
            #expect(portico.snapshot.revision == base, "nothing is visible before its commit")
            store.release()
            var revisions: [Revision] = []
            for try await revision in group { revisions.append(revision) }
            #expect(revisions.sorted() == Array(base + 1...base + Revision(writers)))
        }
        #expect(store.batches.suffix(2) == [1, writers - 1])
        #expect(try await store.inner.load().count == 2 * writers)
        await store.inner.close()
    }

    @Test("a batch that does not continue the stored revisions is refused")
    func outOfOrder() async throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore(directory: directory.path)
        let change = Change(
            revision: 2, time: Timestamp(milliseconds: 0), caller: .operator,
            command: .createPortfolio(name: "x", tier: .none), secretDigests: [])
        await #expect(throws: StoreError.self) { try await store.append([change]) }
        #expect(try await store.load().isEmpty)
        await store.close()
    }
}
