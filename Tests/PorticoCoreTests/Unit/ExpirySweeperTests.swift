import PorticoCore
import Testing

/// The sweeper the server runs: expired assignments become one recorded change per portfolio.
@Suite("Expiry sweeper")
struct ExpirySweeperTests {
    /// A core with one portfolio, one person and one asset, the person assigned until `days` from now.
    private static func world(expiringInDays days: Int) async throws
        -> (Portico, ManualClock, PrincipalID, AssetID)
    {
        let clock = ManualClock()
        let portico = try await Portico.open(clock: clock)
        let portfolio = PortfolioID(try await portico.execute(.createPortfolio(name: "Acme", tier: .none),
                                                              as: .operator).createdID!)
        let person = PrincipalID(try await portico.execute(.addPerson(portfolio, name: "Con", role: .employee),
                                                           as: .operator).createdID!)
        let asset = AssetID(try await portico.execute(.addAsset(portfolio, type: .page, name: "pg"),
                                                      as: .operator).createdID!)
        try await portico.execute(.assign(person, asset, TaskSet(.analyze), expiresAt: clock.now().adding(days: days)),
                                  as: .operator)
        return (portico, clock, person, asset)
    }

    @Test("a sweep before the expiry changes nothing; after it, one change removes the assignment")
    func sweepOnce() async throws {
        let (portico, clock, person, asset) = try await Self.world(expiringInDays: 30)
        let sweeper = ExpirySweeper(portico: portico, interval: .seconds(60))
        let revision = portico.snapshot.revision
        await sweeper.sweep()
        let noChanges = await sweeper.changesMade
        #expect(portico.snapshot.revision == revision && noChanges == 0)

        clock.advance(days: 30)
        #expect(portico.snapshot.check(principal: person, asset: asset, task: .analyze, now: clock.now()).reason
            == .assignmentExpired)
        await sweeper.sweep()
        let oneChange = await sweeper.changesMade
        #expect(portico.snapshot.revision == revision + 1 && oneChange == 1)
        #expect(portico.snapshot.check(principal: person, asset: asset, task: .analyze, now: clock.now()).reason
            == .notAssigned)
        #expect(portico.snapshot.state.portfoliosWithExpiredAssignments(at: clock.now()).isEmpty)
        await sweeper.sweep()
        #expect(portico.snapshot.revision == revision + 1, "a second sweep finds nothing")
    }

    @Test("run() sweeps by itself every interval and stops when cancelled")
    func runsUntilCancelled() async throws {
        let (portico, clock, _, _) = try await Self.world(expiringInDays: 1)
        clock.advance(days: 1)
        let sweeper = ExpirySweeper(portico: portico, interval: .milliseconds(1))
        let running = Task { await sweeper.run() }
        // Bounded: up to 10,000 turns of 1 ms for the first sweep to land.
        for _ in 0..<10_000 where await sweeper.changesMade == 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(await sweeper.changesMade == 1)
        running.cancel()
        await running.value
        #expect(await sweeper.failures == 0)
    }
}
