import HashTreeCollections
import PorticoTestSupport
import Testing

@testable import PorticoCore

/// Pins the interleavings of writes around a store that is still writing, or fails.
@Suite("Write interleavings")
struct InterleavingTests {
    /// Starts `command` in a child task and waits until the store has received its batch.
    private func startHeld(
        _ command: Command, on portico: Portico, store: GatedStore, arrivals: Int,
        as caller: Caller = .operator
    ) async -> Task<CommandResult, any Error> {
        let task = Task { try await portico.execute(command, as: caller) }
        await store.waitForArrivals(arrivals)
        return task
    }

    @Test("a failed store write changes nothing and the caller gets UNAVAILABLE")
    func storeFailure() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let before = portico.snapshot.state
        store.failNext()
        await #expect(throws: PorticoError.self) {
            try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.manage)), as: fixture.admin)
        }
        #expect(portico.snapshot.state == before)
        #expect(
            portico.snapshot.check(
                principal: fixture.alice, asset: fixture.ads, task: .manage, now: Timestamp(milliseconds: 0)
            ).allowed == false)
        let retry = try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.manage)), as: fixture.admin)
        #expect(retry.revision == before.revision + 1)
        #expect(try await store.load().map(\.revision) == Array(1...retry.revision))
    }

    @Test("changes queued behind a failed batch fail too, and memory is exactly as before")
    func failureCascadesToQueued() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        let owner = try await Fixture.make(portico, name: "Owner")
        let partner = try await Fixture.make(portico, name: "Partner")
        try await portico.execute(.addPartner(owner.portfolio, partner: partner.portfolio), as: owner.admin)
        let before = portico.snapshot.state
        store.close()
        store.failNext()
        let share = await startHeld(
            .share(owner.ads, with: partner.portfolio, TaskSet(.advertise)), on: portico,
            store: store, arrivals: store.batches.count + 1, as: owner.admin)
        // Validated against the pending share, so it is accepted into the queue...
        let assign = Task {
            try await portico.execute(.assign(partner.alice, owner.ads, TaskSet(.analyze)), as: partner.admin)
        }
        // ...while the published snapshot still shows neither.
        #expect(
            portico.snapshot.check(
                principal: partner.adminUser, asset: owner.ads, task: .advertise, now: Timestamp(milliseconds: 0)
            ).allowed == false)
        await waitForPending(portico, before.revision + 2)
        store.open()
        await #expect(throws: PorticoError.self) { try await share.value }
        await #expect(throws: PorticoError.self) { try await assign.value }
        #expect(portico.snapshot.state == before)
        let again = try await portico.execute(.addPerson(partner.portfolio, name: "x", role: .employee), as: .operator)
        #expect(again.revision == before.revision + 1)
    }

    /// Yields until the core has accepted (validated and queued) changes up to `revision`.
    private func waitForPending(_ portico: Portico, _ revision: Revision) async {
        while portico.pendingRevision < revision { await Task.yield() }
    }

    @Test("a command validates against pending changes: unshare in flight, a partner's assign is refused at once")
    func validatesAgainstPending() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        let owner = try await Fixture.make(portico, name: "Owner")
        let partner = try await Fixture.make(portico, name: "Partner")
        try await portico.execute(.addPartner(owner.portfolio, partner: partner.portfolio), as: owner.admin)
        try await portico.execute(.share(owner.ads, with: partner.portfolio, TaskSet(.manage)), as: owner.admin)
        store.close()
        let unshare = await startHeld(
            .unshare(owner.ads, from: partner.portfolio), on: portico, store: store,
            arrivals: store.batches.count + 1, as: owner.admin)
        // The published snapshot still shows the share...
        #expect(
            portico.snapshot.check(
                principal: partner.adminUser, asset: owner.ads, task: .manage, now: Timestamp(milliseconds: 0)
            ).allowed)
        // ...but the partner's assign is checked against the unshare already accepted.
        await #expect(throws: PorticoError.self) {
            try await portico.execute(.assign(partner.alice, owner.ads, TaskSet(.analyze)), as: partner.admin)
        }
        store.open()
        _ = try await unshare.value
        #expect(
            portico.snapshot.check(
                principal: partner.adminUser, asset: owner.ads, task: .manage, now: Timestamp(milliseconds: 0)
            ).reason == .notShared)
    }

    @Test("changes from several portfolios waiting on the store are written as one batch")
    func groupCommit() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        var made: [Fixture] = []
        for index in 0..<4 { made.append(try await Fixture.make(portico, name: "P\(index)")) }
        let fixtures = made
        let baseline = store.batches.count
        store.close()
        let first = await startHeld(
            .addPerson(fixtures[0].portfolio, name: "lead", role: .employee), on: portico,
            store: store, arrivals: baseline + 1)
        let followers = (1..<4).map { index in
            Task {
                try await portico.execute(
                    .addPerson(fixtures[index].portfolio, name: "f", role: .employee),
                    as: .operator)
            }
        }
        // The three followers are queued behind the held leader once their revisions are taken.
        await waitForPending(portico, portico.snapshot.revision + 4)
        store.open()
        let leadRevision = try await first.value.revision
        var revisions = [leadRevision]
        for follower in followers { revisions.append(try await follower.value.revision) }
        #expect(Set(revisions).count == 4)
        #expect(store.batches.count == baseline + 2)
        #expect(store.batches.last?.count == 3)
        #expect(store.batches.dropFirst(baseline).map(\.count).reduce(0, +) == 4)
        #expect(try await store.load().map(\.revision) == Array(1...portico.snapshot.revision))
    }

    @Test("two admin system users raced on one portfolio: exactly one is created")
    func noDuplicateAdmin() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let portfolio = PortfolioID(
            try await portico.execute(
                .createPortfolio(name: "P", tier: .advanced),
                as: .operator
            ).createdID!)
        try await portico.execute(.createApp(portfolio, name: "app"), as: .operator)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    (try? await portico.execute(
                        .addSystemUser(portfolio, name: "a\(index)", role: .admin),
                        as: .operator)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        #expect(portico.snapshot.state.portfolios[portfolio]?.adminSystemUsers == 1)
    }
}
