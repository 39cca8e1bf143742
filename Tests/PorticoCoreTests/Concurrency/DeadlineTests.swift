import HashTreeCollections
import Testing

@testable import PorticoCore

/// A write's deadline: refused before validation once passed (nothing changes), never after.
@Suite("Write deadlines")
struct DeadlineTests {
    @Test("a deadline already passed: DEADLINE_EXCEEDED, and nothing changes")
    func passedDeadline() async throws {
        let portico = try await Portico.open(store: InMemoryChangeStore(), clock: ManualClock())
        let before = portico.snapshot.state
        do {
            try await portico.execute(
                .createPortfolio(name: "late", tier: .standard), as: .operator,
                deadline: .now - .microseconds(1))
            Issue.record("a passed deadline was not refused")
        } catch let error as PorticoError {
            #expect(error.code == .deadlineExceeded)
            #expect(error.reason == "DEADLINE_EXCEEDED")
        }
        #expect(portico.snapshot.state == before)
        #expect(portico.pendingRevision == 0)
        // The next write takes revision 1: the refused one took nothing.
        let next = try await portico.execute(
            .createPortfolio(name: "on time", tier: .standard), as: .operator,
            deadline: .now + .seconds(60))
        #expect(next.revision == 1)
    }

    @Test("a command whose deadline passes while it waits in its portfolio's lane is refused, not applied")
    func deadlinePassesInLane() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let before = portico.snapshot.state.revision
        store.close()
        // The first command holds the lane in the store; the second waits behind it in the same lane.
        let first = Task {
            try await portico.execute(.addPerson(fixture.portfolio, name: "first", role: .employee), as: fixture.admin)
        }
        await store.waitForArrivals(store.batches.count + 1)
        let deadline = ContinuousClock.now + .milliseconds(20)
        let second = Task {
            try await portico.execute(
                .addPerson(fixture.portfolio, name: "second", role: .employee),
                as: fixture.admin, deadline: deadline)
        }
        // Past the second's deadline, let the first through: the second reaches validation too late.
        while ContinuousClock.now < deadline { await Task.yield() }
        store.open()
        let committed = try await first.value
        #expect(committed.revision == before + 1)
        await #expect(
            throws: PorticoError(
                .deadlineExceeded,
                "the call's deadline passed before the change was validated; nothing changed",
                reason: "DEADLINE_EXCEEDED")
        ) {
            try await second.value
        }
        #expect(portico.pendingRevision == before + 1)
        #expect(portico.snapshot.state.revision == before + 1)
        #expect(!portico.snapshot.state.principals.values.contains { $0.name == "second" })
    }

    @Test("a deadline that passes while the change is being made durable does not undo it")
    func deadlinePassesInStore() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        store.close()
        // The write must be validated before its deadline: on a loaded machine a short one can pass
        // first (then nothing is applied, as the test above shows), so try longer ones until it is.
        for timeout: Duration in [.milliseconds(20), .milliseconds(200), .seconds(2)] {
            let deadline = ContinuousClock.now + timeout
            let write = Task {
                try await portico.execute(
                    .createPortfolio(name: "durable", tier: .standard), as: .operator,
                    deadline: deadline)
            }
            while portico.pendingRevision == 0, ContinuousClock.now < deadline + .seconds(1) {
                try await Task.sleep(for: .milliseconds(1))
            }
            guard portico.pendingRevision == 1 else {
                await #expect(throws: PorticoError.self) { try await write.value }
                continue
            }
            // Validated and held in the store: the deadline passes there, then the store lets it through.
            while ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            store.open()
            #expect(try await write.value.revision == 1)
            #expect(portico.snapshot.state.revision == 1)
            return
        }
        Issue.record("the write was never validated within 2 s")
    }
}
