import PorticoReasons
import Synchronization

/// The published snapshot, and the calls waiting for a revision it has not reached yet.
///
/// A check reads `current`: one lock, one retain. A read that asks for a newer revision than the
/// node holds (`min_revision`, or a Watch stream waiting for the next change) parks here until a
/// publication reaches it, the deadline passes or its task is cancelled; each waiter is one entry,
/// removed when it is answered, so what is held is bounded by the calls in flight.
final class Publication: Sendable {
    private struct Waiter {
        let id: UInt64
        let revision: Revision
        let continuation: CheckedContinuation<AccessSnapshot, any Error>
    }

    private struct Waiters {
        var nextID: UInt64 = 0
        var parked: [Waiter] = []
    }

    private let snapshot: Mutex<AccessSnapshot>
    // `wait` reads the snapshot while it holds this lock; `publish` never holds both.
    private let waiters = Mutex(Waiters())

    init(_ initial: AccessSnapshot) { snapshot = Mutex(initial) }

    var current: AccessSnapshot { snapshot.withLock { $0 } }

    /// How many calls wait for a revision now.
    var waiting: Int { waiters.withLock { $0.parked.count } }

    /// Publishes `next` and wakes the waiters it satisfies.
    /// - Parameter replacing: a reload's state, which may stand at any revision; otherwise revisions
    ///   only grow.
    func publish(_ next: AccessSnapshot, replacing: Bool = false) {
        snapshot.withLock { current in
            assert(replacing || next.revision >= current.revision, "published revisions only grow")
            current = next
        }
        let ready = waiters.withLock { waiters -> [Waiter] in
            guard !waiters.parked.isEmpty else { return [] }
            var ready: [Waiter] = []
            waiters.parked.removeAll { waiter in
                guard waiter.revision <= next.revision else { return false }
                ready.append(waiter)
                return true
            }
            return ready
        }
        for waiter in ready { waiter.continuation.resume(returning: next) }
    }

    /// The published snapshot once it has reached `revision`.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func wait(for revision: Revision) async throws -> AccessSnapshot {
        let id = waiters.withLock { waiters in
            defer { waiters.nextID += 1 }
            return waiters.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.withLock { waiters in
                    // Read under the waiters' lock: a publication either came before (seen here) or
                    // takes this lock after the waiter is parked (and wakes it).
                    let latest = snapshot.withLock { $0 }
                    if latest.revision >= revision {
                        continuation.resume(returning: latest)
                    } else if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        waiters.parked.append(Waiter(id: id, revision: revision, continuation: continuation))
                    }
                }
            }
        } onCancel: {
            let cancelled = waiters.withLock { waiters -> Waiter? in
                guard let index = waiters.parked.firstIndex(where: { $0.id == id }) else { return nil }
                return waiters.parked.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The published snapshot once it has reached `revision`, waiting at most until `deadline` (nil:
    /// until the revision arrives or the task is cancelled).
    /// - Throws: UNAVAILABLE (`REVISION_NOT_VISIBLE`) when the deadline passes first;
    ///   `CancellationError` when the task is cancelled.
    func wait(for revision: Revision, until deadline: ContinuousClock.Instant?) async throws -> AccessSnapshot {
        let latest = current
        if latest.revision >= revision { return latest }
        guard let deadline else { return try await wait(for: revision) }
        return try await withThrowingTaskGroup(of: AccessSnapshot?.self) { group in
            group.addTask { try await self.wait(for: revision) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let snapshot = first else {
                throw PorticoError(
                    .unavailable,
                    "revision \(revision) was not reached before the deadline (this "
                        + "node is at \(self.current.revision))", reason: .revisionNotVisible)
            }
            return snapshot
        }
    }
}
