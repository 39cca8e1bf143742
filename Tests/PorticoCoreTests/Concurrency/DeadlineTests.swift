import HashTreeCollections
import Testing

@testable import PorticoCore
import PorticoReasons
import PorticoTestSupport

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
            #expect(error.reason == ErrorReason.deadlineExceeded.rawValue)
        }
        #expect(portico.snapshot.state == before)
        #expect(portico.pendingRevision == 0)
        // The next write takes revision 1: the refused one took nothing.
        let next = try await portico.execute(
            .createPortfolio(name: "on time", tier: .standard), as: .operator,
            deadline: .now + .seconds(60))
        #expect(next.revision == 1)
    }

    @Test("a deadline that passes while the change is being made durable does not undo it")
    func deadlinePassesInStore() async throws {
        let store = GatedStore()
        let portico = try await Portico.open(store: store, clock: ManualClock())
        store.close()
        // The write must be validated before its deadline: on a loaded machine a short one can pass
        // first (then nothing is applied, as the test above shows), so try longer ones until it is.
        for timeout: Duration in [.milliseconds(50), .milliseconds(500), .seconds(5), .seconds(20)] {
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
        Issue.record("the write was never validated within 20 s")
    }
}
