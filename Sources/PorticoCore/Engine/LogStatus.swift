import Synchronization

/// What a node knows of its store and of the log's head, for GetServerInfo and the logs: whether the
/// store answers, the newest revision the log is known to hold, and how long the node has known of
/// changes it has not applied yet.
public struct LogStatus: Sendable, Equatable {
    /// "memory", "sqlite" or "postgres".
    public var store: String
    /// The newest revision the log is known to hold (on a store only this node writes: the node's own).
    public var headRevision: Revision
    /// The revision the node answers from.
    public var appliedRevision: Revision
    /// How long the node has known of a head beyond its revision without applying it; zero when caught up.
    public var lag: Duration
    /// When the node last heard from the store (a commit, a notification, a poll); nil before the first.
    public var lastContact: Timestamp?
    /// How long ago that was, on the monotonic clock (a wall clock may jump); nil before the first.
    public var sinceLastContact: Duration?
    /// Why the store does not answer, since its last failure; nil while it answers.
    public var storeError: String?
    /// Why the node does not serve (it reloads after an inconsistency); nil while it serves.
    public var notServing: String?

    /// Whether the store answered the last time it was asked.
    public var storeAvailable: Bool { storeError == nil }
}

/// The mutable side of `LogStatus`, updated by the commit log and the follower, read synchronously by
/// GetServerInfo. Mutex: a few fields, rarely written (once per batch or notification).
final class LogStatusBoard: Sendable {
    private struct State {
        var head: Revision = 0
        /// When the node first learned of a head beyond the revision it had applied then.
        var behindSince: ContinuousClock.Instant?
        var lastContact: Timestamp?
        var contactedAt: ContinuousClock.Instant?
        var storeError: String?
    }

    private let state = Mutex(State())
    let store: String
    private let clock: any WallClock

    init(store: String, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// The store answered, and its log holds `head` (nil: the answer said nothing of the head).
    func contact(head: Revision?, applied: Revision) {
        let now = clock.now()
        state.withLock { state in
            state.lastContact = now
            state.contactedAt = .now
            state.storeError = nil
            if let head { state.head = max(state.head, head) }
            Self.track(&state, applied: applied)
        }
    }

    /// The store failed.
    func failure(_ reason: String) {
        state.withLock { $0.storeError = reason }
    }

    /// The status as it stands, for a node that has applied `applied`.
    func status(applied: Revision, notServing: String?) -> LogStatus {
        state.withLock { state in
            Self.track(&state, applied: applied)
            let head = max(state.head, applied)
            return LogStatus(
                store: store, headRevision: head, appliedRevision: applied,
                lag: state.behindSince.map { ContinuousClock.now - $0 } ?? .zero,
                lastContact: state.lastContact, sinceLastContact: state.contactedAt.map { ContinuousClock.now - $0 },
                storeError: state.storeError, notServing: notServing)
        }
    }

    private static func track(_ state: inout State, applied: Revision) {
        if state.head <= applied {
            state.behindSince = nil
        } else if state.behindSince == nil {
            state.behindSince = .now
        }
    }
}
