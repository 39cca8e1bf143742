import Foundation
import HashTreeCollections
import PorticoCore
import PorticoTestSupport
import Testing

@Suite("Stored changes and replay")
struct ReplayTests {
    @Test("replaying the stored changes rebuilds exactly the same state, secrets included")
    func replay() async throws {
        let clock = ManualClock()
        let store = InMemoryChangeStore()
        let live = try await Portico.open(store: store, clock: clock)
        let fixture = try await Fixture.make(live)
        let token = try await live.execute(.generateToken(fixture.bot, app: fixture.app, scopes: ScopeSet(.adsRead),
                                                          expiry: .sixtyDays), as: fixture.admin)
        clock.advance(days: 3)
        try await live.execute(.assign(fixture.alice, fixture.ads, TaskSet(.advertise)), as: fixture.admin)
        try await live.execute(.removePrincipal(fixture.alice), as: .operator)
        // Partnerships, made directly and by an approval, replay with their revisions.
        let partner = try await Fixture.make(live, name: "Partner")
        try await live.execute(.addPartner(partner.portfolio, partner: fixture.portfolio), as: partner.admin)
        try await live.execute(.share(partner.ads, with: fixture.portfolio, TaskSet(.analyze)), as: partner.admin)
        let request = try await live.execute(.requestShare(fixture.ads, by: partner.portfolio, TaskSet(.draft)),
                                             as: partner.admin)
        try await live.execute(.approveShareRequest(ShareRequestID(request.createdID!)), as: fixture.admin)

        let stored = try await store.load()
        #expect(stored.map(\.revision) == Array(1...live.snapshot.revision))
        let reopened = try await Portico.open(store: InMemoryChangeStore(stored), clock: ManualClock())
        #expect(reopened.snapshot.state == live.snapshot.state)
        let secret = try #require(token.secret)
        #expect(try reopened.snapshot.authenticate(secret, now: clock.now()) == .systemUser(TokenID(token.createdID!)))
    }

    @Test("changes survive an encode/decode round trip (what a durable store persists)")
    func codable() async throws {
        let store = InMemoryChangeStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        _ = try await Fixture.make(portico)
        let stored = try await store.load()
        let encoded = try JSONEncoder().encode(stored)
        let decoded = try JSONDecoder().decode([Change].self, from: encoded)
        #expect(decoded == stored)
        let reopened = try await Portico.open(store: InMemoryChangeStore(decoded), clock: ManualClock())
        #expect(reopened.snapshot.state == portico.snapshot.state)
    }

    @Test("a log an earlier version wrote with names of up to 256 bytes still loads; a new write is held to 200")
    func longNamesReplay() async throws {
        let store = InMemoryChangeStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        _ = try await Fixture.make(portico)
        // Earlier versions took up to 256 UTF-8 bytes: 240 letters passed then and are over 200 now.
        let long = String(repeating: "n", count: 240)
        let stored = try await store.load().map { change -> Change in
            guard case .createPortfolio(_, let tier, _) = change.command else { return change }
            return Change(revision: change.revision, time: change.time, caller: change.caller,
                          command: .createPortfolio(name: long, tier: tier), secretDigests: change.secretDigests)
        }
        let reopened = try await Portico.open(store: InMemoryChangeStore(stored), clock: ManualClock())
        #expect(reopened.snapshot.state.portfolios.values.contains { $0.name == long })
        await #expect(throws: PorticoError.self) {
            _ = try await reopened.execute(.createPortfolio(name: long, tier: .standard), as: .operator)
        }
    }

    @Test("a log that does not replay is refused with INTERNAL")
    func corruptLog() async throws {
        let store = InMemoryChangeStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        _ = try await Fixture.make(portico)
        let broken = Array(try await store.load().dropFirst())
        await #expect(throws: PorticoError.self) {
            _ = try await Portico.open(store: InMemoryChangeStore(broken), clock: ManualClock())
        }
    }
}
