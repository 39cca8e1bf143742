@testable import PorticoCore
import Testing

/// Refused commands leave nothing behind: the core keeps no per-portfolio bookkeeping for a portfolio
/// id a caller made up, nor for a command it refused.
@Suite("Refused writes")
struct RefusedWriteTests {
    @Test("10,000 writes naming portfolios that do not exist, by a regular system user, leave no lane behind")
    func refusedWritesLeaveNoLanes() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let token = TokenID(try await portico.execute(
            .generateToken(fixture.bot, app: fixture.app, scopes: ScopeSet(.adsRead), expiry: .never),
            as: fixture.admin).createdID!)
        let regular = Caller.systemUser(token)
        let before = portico.snapshot.state
        let unknown = portico.snapshot.state.nextID + 1_000_000
        // 8 concurrent callers, so that some share a lane while it exists.
        let refused = try await withThrowingTaskGroup(of: Int.self) { group in
            for caller in 0..<8 {
                group.addTask {
                    var refused = 0
                    for index in 0..<1250 {
                        let portfolio = PortfolioID(unknown + UInt64(index * 8 + caller))
                        do {
                            try await portico.execute(.addAsset(portfolio, type: .page, name: "x"), as: regular)
                        } catch let error as PorticoError {
                            #expect(error.code == .notFound || error.code == .permissionDenied)
                            refused += 1
                        }
                    }
                    return refused
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(refused == 10_000)
        #expect(portico.laneCount == 0)
        #expect(portico.snapshot.state == before)
    }

    @Test("a lane exists while its command waits for the store, and goes when it is done")
    func laneLivesWhileInUse() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        store.close()
        let arrivals = store.batches.count + 1
        let pending = Task {
            try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.manage)), as: fixture.admin)
        }
        await store.waitForArrivals(arrivals)
        #expect(portico.laneCount == 1)
        store.open()
        _ = try await pending.value
        #expect(portico.laneCount == 0)
    }
}
