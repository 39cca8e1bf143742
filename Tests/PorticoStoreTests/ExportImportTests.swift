import Foundation
import PorticoTestSupport
import Testing

@testable import PorticoCore
@testable import PorticoStore

@Suite("Export and import")
struct ExportImportTests {
    @Test("export then import into an empty directory gives an identical state")
    func roundTrip() async throws {
        let source = TemporaryDirectory("export-src")
        let clock = ManualClock()
        let store = try SQLiteStore(directory: source.path)
        let portico = try await Portico.open(store: store, clock: clock)
        let fixture = try await Fixture.make(portico)
        let issued = try await portico.execute(
            .generateToken(
                fixture.bot, app: fixture.app, scopes: ScopeSet(.adsRead),
                expiry: .sixtyDays), as: fixture.admin)
        try await portico.execute(.assign(fixture.bot, fixture.ads, TaskSet(.advertise)), as: fixture.admin)
        try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.analyze)), as: fixture.admin)
        clock.advance(days: 3)
        try await portico.execute(.setRole(fixture.alice, .admin), as: fixture.admin)
        let state = portico.snapshot.state

        let files = TemporaryDirectory("export-file")
        let file = files.file("backup.portico")
        // Exported while the store is open and serving, as `portico export` does beside a running server.
        #expect(try await SQLiteStore.export(directory: source.path, to: file, now: clock.now()) == state.revision)
        await store.close()

        let target = TemporaryDirectory("export-dst")
        #expect(try await SQLiteStore.importing(file, into: target.path) == state.revision)
        let restoredStore = try SQLiteStore(directory: target.path)
        let restored = try await Portico.open(store: restoredStore, clock: clock)
        #expect(restored.snapshot.state == state)
        // Checks, lookups and authentication agree.
        for principal in [fixture.alice, fixture.bot, fixture.adminUser] {
            for task in [AssetTask.manage, .advertise, .analyze] {
                #expect(
                    try restored.check(as: .operator, principal: principal, asset: fixture.ads, task: task)
                        == portico.check(as: .operator, principal: principal, asset: fixture.ads, task: task))
            }
        }
        let token = TokenID(try #require(issued.createdID))
        #expect(try restored.authenticate(try #require(issued.secret)) == .systemUser(token))
        #expect(
            try restored.check(as: .operator, token: token, asset: fixture.ads, task: .advertise)
                == portico.check(as: .operator, token: token, asset: fixture.ads, task: .advertise))
        // And revisions continue.
        let next = try await restored.execute(
            .addPerson(fixture.portfolio, name: "bob", role: .employee), as: fixture.admin)
        #expect(next.revision == state.revision + 1)
        await restoredStore.close()

        // The file holds no secret.
        let bytes = try #require(FileManager.default.contents(atPath: file))
        #expect(bytes.range(of: Data(try #require(issued.secret).utf8)) == nil)
    }

    @Test("import refuses a directory that holds a database, and a damaged file")
    func refusals() async throws {
        let source = TemporaryDirectory("export-src")
        let store = try SQLiteStore(directory: source.path)
        let portico = try await Portico.open(store: store)
        _ = try await Fixture.make(portico)
        let files = TemporaryDirectory("export-file")
        let file = files.file("backup.portico")
        _ = try await SQLiteStore.export(directory: source.path, to: file, now: Timestamp(milliseconds: 0))
        await store.close()

        await #expect(throws: StoreError.self) { try await SQLiteStore.importing(file, into: source.path) }

        let data = try #require(FileManager.default.contents(atPath: file))
        let truncated = files.file("truncated.portico")
        #expect(FileManager.default.createFile(atPath: truncated, contents: data.prefix(data.count - 10)))
        let empty = TemporaryDirectory("export-dst")
        await #expect(throws: StoreError.self) { try await SQLiteStore.importing(truncated, into: empty.path) }
        #expect(!SQLiteStore.exists(in: empty.path), "nothing is left behind")
    }
}
