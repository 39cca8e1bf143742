@testable import PorticoCore
import Testing
import PorticoTestSupport

/// Refused commands leave nothing behind: the core keeps no per-portfolio bookkeeping (it once kept a
/// lane per portfolio id named, forever) and no record of a command it refused.
@Suite("Refused writes")
struct RefusedWriteTests {
    @Test("10,000 writes naming portfolios that do not exist, by a regular system user, leave nothing behind")
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
        #expect(portico.writesInFlight == 0)
        #expect(portico.snapshot.state == before)
    }

    @Test("a write is tracked while it waits for the store, and forgotten once answered")
    func trackedWhileInUse() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        store.close()
        let arrivals = store.batches.count + 1
        let pending = Task {
            try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.manage)), as: fixture.admin)
        }
        await store.waitForArrivals(arrivals)
        #expect(portico.writesInFlight == 1)
        store.open()
        _ = try await pending.value
        #expect(portico.writesInFlight == 0)
    }
}

/// One portfolio's writes do not wait for each other's fsync: they are validated on arrival and
/// committed together.
@Suite("One portfolio's writes")
struct OnePortfolioTests {
    @Test("writes into one portfolio queue behind a pending one and commit in one batch, answered in order")
    func groupCommitInOnePortfolio() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let start = portico.snapshot.revision
        store.close()
        let arrivals = store.batches.count + 1
        let first = Task { try await portico.execute(.addPerson(fixture.portfolio, name: "p0", role: .employee),
                                                     as: fixture.admin) }
        await store.waitForArrivals(arrivals)
        let rest = (1..<20).map { index in
            Task { try await portico.execute(.addPerson(fixture.portfolio, name: "p\(index)", role: .employee),
                                             as: fixture.admin) }
        }
        // All 19 are validated while the first is still being written (bounded wait on the condition).
        for _ in 0..<10_000 where portico.pendingRevision < start + 20 { await Task.yield() }
        #expect(portico.pendingRevision == start + 20)
        #expect(portico.snapshot.revision == start, "nothing is visible before it is durable")
        store.open()
        #expect(try await first.value.revision == start + 1)
        var revisions: [Revision] = []
        for task in rest { revisions.append(try await task.value.revision) }
        #expect(Set(revisions) == Set((start + 2)...(start + 20)))
        #expect(store.batches.suffix(2).map(\.count) == [1, 19])
        #expect(portico.writesInFlight == 0)
    }

    @Test("a write whose deadline passed before validation is refused and changes nothing")
    func deadlinePassed() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let before = portico.snapshot.state
        await #expect(throws: PorticoError.self) {
            try await portico.execute(.addPerson(fixture.portfolio, name: "late", role: .employee), as: fixture.admin,
                                      deadline: .now - .microseconds(1))
        }
        do {
            try await portico.execute(.addPerson(fixture.portfolio, name: "late", role: .employee), as: fixture.admin,
                                      deadline: .now - .microseconds(1))
        } catch let error as PorticoError {
            #expect(error.code == .deadlineExceeded)
        }
        #expect(portico.snapshot.state == before)
        let next = try await portico.execute(.addPerson(fixture.portfolio, name: "on time", role: .employee),
                                             as: fixture.admin, deadline: .now + .seconds(60))
        #expect(next.revision == before.revision + 1)
    }
}
