import PorticoCore
import Synchronization

/// A store whose appends can be held at a gate and made to fail, to pin down interleavings.
final class GatedStore: ChangeStore {
    struct StoreError: Error {}

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

    init(closed: Bool = false) { state.withLock { $0.closed = closed } }

    func append(_ changes: [Change]) async throws {
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

    func load() async throws -> [Change] { state.withLock { $0.stored } }

    /// Holds every later append until `open()`.
    func close() { state.withLock { $0.closed = true } }

    /// Lets held and later appends through.
    func open() {
        let held = state.withLock { state in
            state.closed = false
            defer { state.held = [] }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    /// Makes the next `count` appends fail.
    func failNext(_ count: Int = 1) { state.withLock { $0.failures = count } }

    /// Returns once `count` appends have arrived (held or not).
    func waitForArrivals(_ count: Int) async {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if state.arrivals >= count { continuation.resume() } else {
                    state.arrivalWaiters.append((count, continuation))
                }
            }
        }
    }

    var batches: [[Change]] { state.withLock { $0.batches } }
}
