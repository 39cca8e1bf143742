import PorticoCore
import PorticoStore
import Synchronization

/// A SQLite store seen through a wrapper that counts its transactions and can hold one.
final class CountingStore: ChangeStore {
    private struct State {
        var batches: [Int] = []
        var holding = false
        var held: CheckedContinuation<Void, Never>?
        var arrived: CheckedContinuation<Void, Never>?
    }

    let inner: SQLiteStore
    // Mutex guards the counters and continuations; nothing else is shared.
    private let state = Mutex(State())

    init(_ inner: SQLiteStore) { self.inner = inner }

    /// Holds the next append until `release()`.
    func holdNext() { state.withLock { $0.holding = true } }

    func append(_ changes: [Change]) async throws {
        let hold = state.withLock { state in
            defer { state.holding = false }
            return state.holding
        }
        if hold {
            await withCheckedContinuation { continuation in
                let arrived = state.withLock { state in
                    state.held = continuation
                    defer { state.arrived = nil }
                    return state.arrived
                }
                arrived?.resume()
            }
        }
        try await inner.append(changes)
        state.withLock { $0.batches.append(changes.count) }
    }

    func load() async throws -> [Change] { try await inner.load() }

    /// Returns once the append `holdNext()` armed is held.
    func waitUntilHeld() async {
        await withCheckedContinuation { continuation in
            let held = state.withLock { state in
                if state.held == nil { state.arrived = continuation }
                return state.held != nil
            }
            if held { continuation.resume() }
        }
    }

    /// Lets the held append go on.
    func release() { state.withLock { state in defer { state.held = nil }; return state.held }?.resume() }

    /// The number of changes in each transaction, in order.
    var batches: [Int] { state.withLock { $0.batches } }
}
