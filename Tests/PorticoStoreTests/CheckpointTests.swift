import Foundation
import Synchronization
import Testing

@testable import PorticoCore
@testable import PorticoStore

#if canImport(Glibc)
    import Glibc
    import PorticoTestSupport
#endif

/// Checkpoints: exact, preferred at start-up, written aside, and never trusted when damaged.
@Suite("Checkpoints")
struct CheckpointTests {
    /// Lines a store or checkpointer reported; the Mutex makes it safe to share.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// A state with every kind of record: partners both ways, shares, share requests in each status,
    /// live, revoked and expiring tokens, service credentials, a removed principal and a removed asset.
    static func populate(_ portico: Portico, clock: ManualClock) async throws -> Fixture {
        let owner = try await Fixture.make(portico, name: "Owner")
        let partner = try await Fixture.make(portico, name: "Partner")
        try await portico.execute(.addPartner(owner.portfolio, partner: partner.portfolio), as: owner.admin)
        try await portico.execute(.addPartner(partner.portfolio, partner: owner.portfolio), as: partner.admin)
        try await portico.execute(.share(owner.ads, with: partner.portfolio, TaskSet(.advertise)), as: owner.admin)
        try await portico.execute(.assign(partner.alice, owner.ads, TaskSet(.analyze)), as: partner.admin)
        try await portico.execute(.assign(owner.alice, owner.ads, TaskSet(.manage)), as: owner.admin)
        let page = AssetID(
            try await portico.execute(
                .addAsset(owner.portfolio, type: .page, name: "page"),
                as: owner.admin
            ).createdID!)
        let request = ShareRequestID(
            try await portico.execute(
                .requestShare(
                    page, by: partner.portfolio,
                    TaskSet(.moderate)),
                as: partner.admin
            ).createdID!)
        try await portico.execute(.approveShareRequest(request), as: owner.admin)
        let declined = ShareRequestID(
            try await portico.execute(
                .requestShare(
                    owner.ads, by: partner.portfolio,
                    TaskSet(.manage)),
                as: partner.admin
            ).createdID!)
        try await portico.execute(.declineShareRequest(declined), as: owner.admin)
        _ = try await portico.execute(.requestShare(page, by: partner.portfolio, TaskSet(.analyze)), as: partner.admin)
        let token = TokenID(
            try await portico.execute(
                .generateToken(
                    owner.bot, app: owner.app, scopes: ScopeSet(.adsRead),
                    expiry: .sixtyDays), as: owner.admin
            ).createdID!)
        try await portico.execute(.revokeToken(token), as: owner.admin)
        _ = try await portico.execute(
            .generateToken(
                owner.bot, app: owner.app, scopes: ScopeSet(.adsManagement),
                expiry: .never), as: owner.admin)
        let credential = CredentialID(
            try await portico.execute(
                .issueServiceCredential(name: "svc"),
                as: .operator
            ).createdID!)
        _ = try await portico.execute(.issueServiceCredential(name: "svc2"), as: .operator)
        try await portico.execute(.revokeServiceCredential(credential), as: .operator)
        clock.advance(days: 1)
        try await portico.execute(.removePrincipal(partner.bot), as: partner.admin)
        let gone = AssetID(
            try await portico.execute(
                .addAsset(owner.portfolio, type: .pixel, name: "gone"),
                as: owner.admin
            ).createdID!)
        try await portico.execute(.assign(owner.bot, gone, TaskSet(.edit)), as: owner.admin)
        try await portico.execute(.removeAsset(gone), as: owner.admin)
        try await portico.execute(.setPortfolioStatus(partner.portfolio, .restricted), as: .operator)
        try await portico.execute(.setRole(owner.alice, .admin), as: owner.admin)
        return owner
    }

    /// A store in a fresh directory holding `populate`'s state, with the core on it.
    static func populatedStore(_ label: String) async throws
        -> (TemporaryDirectory, ManualClock, SQLiteStore, Portico, Fixture)
    {
        let directory = TemporaryDirectory(label)
        let clock = ManualClock()
        let store = try SQLiteStore(directory: directory.path)
        let portico = try await Portico.open(store: store, clock: clock)
        return (directory, clock, store, portico, try await populate(portico, clock: clock))
    }

    @Test("a checkpoint rebuilds exactly the replayed state; start-up replays only the changes after it")
    func exactAndPreferred() async throws {
        let (directory, clock, store, portico, owner) = try await Self.populatedStore("checkpoint")
        let atCheckpoint = portico.snapshot.state
        let (path, _) = try await store.writeCheckpoint(atCheckpoint, now: clock.now())
        #expect(try DataDirectoryTests.mode(path) == 0o600)
        for name in ["x", "y", "z"] {
            try await portico.execute(.addPerson(owner.portfolio, name: name, role: .employee), as: owner.admin)
        }
        let final = portico.snapshot.state
        await store.close()

        let lines = Lines()
        let reopened = try SQLiteStore(directory: directory.path, report: lines.add)
        let recovery = try await reopened.recover()
        #expect(recovery.base == atCheckpoint)
        #expect(recovery.changes.map(\.revision) == Array(atCheckpoint.revision + 1...final.revision))
        let restarted = try await Portico.open(store: reopened, clock: clock)
        #expect(restarted.snapshot.state == final)
        #expect(lines.all.contains { $0.contains("checkpoint at revision \(atCheckpoint.revision) loaded") })
        // The same as replaying every change from nothing.
        let replayed = try AccessState.replay(try await reopened.load())
        #expect(replayed == final)
        await reopened.close()
    }

    /// Damage done to the newest checkpoint file.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case flippedByte, truncated, empty, trailerFlipped, garbage
        var testDescription: String { rawValue }

        func apply(to path: String) throws {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            switch self {
            case .flippedByte: bytes[bytes.count / 2] ^= 0x01
            case .truncated: bytes.removeLast(bytes.count / 3)
            case .empty: bytes = []
            case .trailerFlipped: bytes[bytes.count - 3] ^= 0x80
            case .garbage: bytes = Array(repeating: 0xFF, count: 4096)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }

    @Test(
        "a damaged newest checkpoint is reported and the previous one used; with none left, the whole log",
        arguments: Damage.allCases)
    func damaged(_ damage: Damage) async throws {
        let (directory, clock, store, portico, owner) = try await Self.populatedStore("checkpoint-damaged")
        let first = portico.snapshot.state
        try await store.writeCheckpoint(first, now: clock.now())
        try await portico.execute(.addPerson(owner.portfolio, name: "late", role: .employee), as: owner.admin)
        let (newest, _) = try await store.writeCheckpoint(portico.snapshot.state, now: clock.now())
        try await portico.execute(.addPerson(owner.portfolio, name: "later", role: .employee), as: owner.admin)
        let final = portico.snapshot.state
        await store.close()
        try damage.apply(to: newest)

        let lines = Lines()
        var reopened = try SQLiteStore(directory: directory.path, report: lines.add)
        #expect(try await reopened.recover().base == first)
        #expect(try await Portico.open(store: reopened, clock: clock).snapshot.state == final)
        #expect(lines.all.contains { $0.contains(newest) && $0.contains("damaged") }, "\(lines.all)")
        await reopened.close()

        // Both damaged: the whole log.
        let older = try #require(CheckpointFiles(directory: directory.path).list().last?.path)
        try damage.apply(to: older)
        reopened = try SQLiteStore(directory: directory.path, report: lines.add)
        #expect(try await reopened.recover().base == nil)
        #expect(try await Portico.open(store: reopened, clock: clock).snapshot.state == final)
        await reopened.close()
    }

    @Test("a checkpoint beyond the log (the log restored from an older copy) is not used")
    func beyondTheLog() async throws {
        let open = try await OpenStore.make("checkpoint-beyond")
        let (store, portico) = (open.store, open.portico)
        var state = portico.snapshot.state
        state.revision += 5
        try await store.writeCheckpoint(state, now: Timestamp(milliseconds: 0))
        #expect(try await store.recover().base == nil)
        await store.close()
    }

    @Test("the checkpointer writes one every N changes, keeps the newest two and removes torn temporaries")
    func policyAndPruning() async throws {
        let open = try await OpenStore.make("checkpoint-policy")
        let (directory, store, portico, fixture) = (open.directory, open.store, open.portico, open.fixture)
        // A temporary file a crash left mid-write.
        let torn = directory.file(CheckpointFiles.name(3) + ".partial")
        try PrivateFile.create(torn, bytes: [1, 2, 3])
        let checkpointer = Checkpointer(store: store, portico: portico, policy: .init(changes: 10, interval: nil))
        let running = Task { await checkpointer.run(poll: .milliseconds(5)) }
        var previous: Revision = 0
        for round in 1...3 {
            for index in 0..<10 {
                try await portico.execute(
                    .addPerson(fixture.portfolio, name: "p\(round)-\(index)", role: .employee),
                    as: fixture.admin)
            }
            // Bounded wait for the condition, not for time: fewer than 10 changes after the newest checkpoint.
            for _ in 0..<2000 where portico.snapshot.revision - checkpointer.lastRevision >= 10 {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(portico.snapshot.revision - checkpointer.lastRevision < 10, "round \(round)")
            #expect(checkpointer.lastRevision > previous, "round \(round) wrote a new one")
            previous = checkpointer.lastRevision
        }
        running.cancel()
        await running.value
        var kept = CheckpointFiles(directory: directory.path).list()
        #expect(kept.count == 2)
        #expect(kept.first?.revision == previous)
        #expect(!FileManager.default.fileExists(atPath: torn))
        // As at a clean shutdown: one at the last revision, then nothing new to write.
        #expect(await checkpointer.checkpointNow())
        #expect(await checkpointer.checkpointNow() == false)
        kept = CheckpointFiles(directory: directory.path).list()
        #expect(kept.map(\.revision) == [portico.snapshot.revision, previous])
        await store.close()
    }
}
