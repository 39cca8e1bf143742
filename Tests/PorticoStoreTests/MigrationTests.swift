import Foundation
import PorticoTestSupport
import Testing

@testable import PorticoCore
@testable import PorticoStore

/// Data written by Portico before the binary change log: a database (schema version 1, JSON rows) and
/// an export (format 1, JSON changes), both made by that version's `portico` through its CLI:
/// portfolios Acme (1) and Agency (2); app 3; admin system user 4 with token 5; ad account 6 and page
/// 7; regular system user 8 assigned ADVERTISE on 6; Dana (9) in Agency; Acme partners with Agency and
/// shares 6 (ADVERTISE); Dana assigned ANALYZE on 6; Agency's request 10 for page 7 (MODERATE),
/// approved; service credential 11; token 12 for system user 8, revoked; pixel 13, removed. 20 changes.
@Suite("Upgrading data of the JSON format")
struct MigrationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// Secrets the fixture's server printed once (a throwaway database's).
    static let adminToken = "ptk_5_y6VjazlHnuX09p4BwT8BKVWkDPMabKhmlarf2Tbd1W4"
    static let revokedToken = "ptk_12_MdhsEja5nP4aVwuG-bXabsvNlpnR0WGehekaV9-dO_U"
    static let credential = "psk_11_lmeof6JPXEO1ZQOSkajqjnedRcngGiplb4mJju8ni2U"

    /// The fixture's answers, as the old server gave them.
    static func verify(_ portico: Portico) throws {
        let snapshot = portico.snapshot
        #expect(snapshot.revision == 20)
        let own = snapshot.check(
            principal: PrincipalID(8), asset: AssetID(6), task: .analyze, now: Timestamp(milliseconds: 0))
        #expect(own.allowed && own.reason == .assigned)
        let shared = snapshot.check(
            principal: PrincipalID(9), asset: AssetID(6), task: .analyze, now: Timestamp(milliseconds: 0))
        #expect(shared.allowed && shared.reason == .sharedAssigned)
        #expect(
            !snapshot.check(
                principal: PrincipalID(9), asset: AssetID(6), task: .advertise, now: Timestamp(milliseconds: 0)
            ).allowed)
        #expect(snapshot.state.checkIndex.asset(AssetID(13)) == nil, "the removed pixel")
        #expect(
            snapshot.state.checkIndex.share(AssetID(7), with: PortfolioID(2)) != nil, "the approved request's share")
        #expect(try portico.authenticate(adminToken) == .systemUser(TokenID(5)))
        #expect(try portico.authenticate(credential) == .service(CredentialID(11)))
        #expect(throws: PorticoError.self) { try portico.authenticate(revokedToken) }
        #expect(snapshot.state.audit[20]?.operation == "removeAsset")
    }

    @Test("a schema version 1 database is re-encoded at start-up, answers as before, and goes on")
    func databaseUpgrade() async throws {
        let directory = TemporaryDirectory("migrate")
        try FileManager.default.copyItem(
            atPath: Self.fixtures.appendingPathComponent("v1-portico.sqlite").path,
            toPath: directory.file(SQLiteStore.fileName))
        let lines = CheckpointTests.Lines()
        let store = try SQLiteStore(directory: directory.path, report: lines.add)
        #expect(try await store.integer("PRAGMA user_version") == 2)
        // Every row is a StoredChange now, not JSON.
        #expect(
            try await store.integer("SELECT count(*) FROM changes WHERE substr(change, 1, 1) = CAST('{' AS BLOB)") == 0)
        #expect(try await store.integer("SELECT count(*) FROM changes") == 20)
        let portico = try await Portico.open(store: store)
        try Self.verify(portico)
        // The same state as the old export's JSON changes replayed.
        let exported = try ExportFile.read(from: Self.fixtures.appendingPathComponent("v1-export.portico").path)
        #expect(portico.snapshot.state == (try AccessState.replay(exported)))
        let next = try await portico.execute(.addPerson(PortfolioID(1), name: "new", role: .employee), as: .operator)
        #expect(next.revision == 21)
        await store.close()

        let reopened = try SQLiteStore(directory: directory.path)
        let again = try await Portico.open(store: reopened)
        #expect(again.snapshot.state == portico.snapshot.state)
        await reopened.close()
    }

    @Test("a migration that fails leaves the file as it was: still version 1, still JSON")
    func failedMigrationLeavesFile() async throws {
        let directory = TemporaryDirectory("migrate-fail")
        let path = directory.file(SQLiteStore.fileName)
        try FileManager.default.copyItem(
            atPath: Self.fixtures.appendingPathComponent("v1-portico.sqlite").path,
            toPath: path)
        // Row 15 damaged: the re-encoding stops there, after rewriting the rows before it.
        let connection = try SQLiteConnection(path: path)
        try connection.execute("UPDATE changes SET change = CAST('{not json' AS BLOB) WHERE revision = 15")
        connection.close()
        #expect(throws: StoreError.self) { try SQLiteStore(directory: directory.path) }
        let check = try SQLiteConnection(path: path)
        #expect(try check.integer("PRAGMA user_version") == 1)
        #expect(try check.integer("SELECT count(*) FROM changes WHERE substr(change, 1, 1) = CAST('{' AS BLOB)") == 20)
        check.close()
    }

    @Test("an export of format 1 (JSON) still imports, and a new export is format 2")
    func oldExportImports() async throws {
        let target = TemporaryDirectory("migrate-import")
        let file = Self.fixtures.appendingPathComponent("v1-export.portico").path
        #expect(try await SQLiteStore.importing(file, into: target.path) == 20)
        let store = try SQLiteStore(directory: target.path)
        let portico = try await Portico.open(store: store)
        try Self.verify(portico)
        await store.close()

        let files = TemporaryDirectory("migrate-export")
        let exported = files.file("v2.portico")
        #expect(
            try await SQLiteStore.export(directory: target.path, to: exported, now: Timestamp(milliseconds: 0)) == 20)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: exported))
        #expect(bytes.range(of: Data("protobuf".utf8)) != nil)
        #expect(try ExportFile.read(from: exported) == ExportFile.read(from: file))
    }
}
