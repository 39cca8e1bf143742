public import PorticoCore
import Synchronization

/// A store whose appends can be held at a gate and made to fail, to pin down interleavings (the core's
/// tests) and to keep writes in flight for as long as a test needs (the servers').
public final class GatedStore: ChangeStore {
    public struct StoreError: Error {}

    private struct State {
        var stored: [Change] = []
        var batches: [[Change]] = []
        var closed = false
        var held: [CheckedContinuation<Void, Never>] = []
        var failures = 0
        var arrivals = 0
        var arrivalWaiters: [(Int, CheckedContinuation<Void, Never>)] = []
    }

    // Mutex guards all state; continuations are resumed outside no invariant.
    private let state = Mutex(State())

    public init(closed: Bool = false) { state.withLock { $0.closed = closed } }

    public func append(_ changes: [Change]) async throws {
        state.withLock { state in
            state.arrivals += 1
            let ready = state.arrivalWaiters.filter { $0.0 <= state.arrivals }
            state.arrivalWaiters.removeAll { $0.0 <= state.arrivals }
            for (_, waiter) in ready { waiter.resume() }
        }
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if state.closed { state.held.append(continuation) } else { continuation.resume() }
            }
        }
        try state.withLock { state in
            if state.failures > 0 {
                state.failures -= 1
                throw StoreError()
            }
            state.stored += changes
            state.batches.append(changes)
        }
    }

    public func load() async throws -> [Change] { state.withLock { $0.stored } }

    /// Holds every later append until `open()`.
    public func close() { state.withLock { $0.closed = true } }

    /// Lets held and later appends through.
    public func open() {
        let held = state.withLock { state in
            state.closed = false
            defer { state.held = [] }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    /// Makes the next `count` appends fail.
    public func failNext(_ count: Int = 1) { state.withLock { $0.failures = count } }

    /// Returns once `count` appends have arrived (held or not).
    public func waitForArrivals(_ count: Int) async {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if state.arrivals >= count {
                    continuation.resume()
                } else {
                    state.arrivalWaiters.append((count, continuation))
                }
            }
        }
    }

    public var batches: [[Change]] { state.withLock { $0.batches } }
}
