import GRPCCore
import NIOCore
import PorticoCore
import PorticoReasons
import PorticoServer
import PorticoWire
import Synchronization

/// The Watch streams open on the gRPC endpoint: each drains its feed into the call's writer, counted
/// against a limit while it is open, and ended, with the revision to resume from in its `ErrorDetail`,
/// when the server drains, its deadline passes or its caller loses the right.
///
/// A stream writes one event at a time and waits for grpc-swift's writer, which waits for HTTP/2 flow
/// control: what a slow client holds on the server is the transport's window, and the feed holds only
/// its cursor (no events are queued for it). Unlike the native port, a slow gRPC watcher is therefore
/// paced, not ended.
final class GRPCWatchStreams: Sendable {
    let limit: Int
    private let state = Mutex(State())

    private struct State {
        var open = 0
        var draining = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private enum Wake: Sendable {
        case changed
        case draining
        case deadline
        /// gRPC cancelled the call (the client reset its stream): it does not cancel the handler's task.
        case cancelled
    }

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Streams open now.
    var count: Int { self.state.withLock { $0.open } }

    /// Drains `feed` through `write`, page by page, then each change as it commits, until the stream
    /// ends or gRPC cancels the call (`cancellation`).
    /// - Throws: `CallFailure` with `resume_revision`: UNAVAILABLE (`GOING_AWAY`) when the server
    ///   drains, DEADLINE_EXCEEDED at `deadline`, the feed's refusal when the caller lost the right;
    ///   RESOURCE_EXHAUSTED (`TOO_MANY_CALLS`) when `limit` streams are open already; what `write`
    ///   throws (the client went away).
    func serve(
        _ feed: WatchFeed,
        deadline: NIODeadline?,
        cancellation: ServerContext.RPCCancellationHandle,
        write: (PorticoCore.AuditEvent, AccessSnapshot) async throws -> Void
    ) async throws {
        try self.admit()
        defer { self.state.withLock { $0.open -= 1 } }
        var feed = feed
        while true {
            if self.state.withLock({ $0.draining }) { throw Self.goingAway(resume: feed.cursor) }
            let before = feed.cursor
            let page: (events: [PorticoCore.AuditEvent], snapshot: AccessSnapshot)
            do {
                page = try feed.next(limit: 100)
            } catch {
                throw PorticoHandlers.streamEnd(error, resumeAfter: before)
            }
            for event in page.events { try await write(event, page.snapshot) }
            guard page.events.isEmpty, feed.cursor >= page.snapshot.revision else { continue }
            switch try await self.wake(feed, deadline: deadline, cancellation: cancellation) {
            case .changed: continue
            case .cancelled:
                // A shutdown may cancel the call too: the client, if still there, learns where to resume.
                if self.state.withLock({ $0.draining }) { throw Self.goingAway(resume: feed.cursor) }
                return
            case .draining: throw Self.goingAway(resume: feed.cursor)
            case .deadline:
                let failure = CallFailure(.deadlineExceeded, "the stream's deadline passed", reason: .deadlineExceeded)
                throw PorticoHandlers.streamEnd(failure, resumeAfter: feed.cursor)
            }
        }
    }

    /// Ends every stream (now and later) with UNAVAILABLE and its revision to resume from.
    func drain() {
        let waiters = self.state.withLock { state in
            state.draining = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    private func admit() throws {
        try self.state.withLock { state throws(CallFailure) in
            guard !state.draining else { throw Self.goingAway(resume: 0) }
            guard state.open < self.limit else {
                throw CallFailure(
                    .resourceExhausted, "too many Watch streams open on this server", reason: .tooManyCalls)
            }
            state.open += 1
        }
    }

    /// What comes first: a change after the feed's cursor, the server's drain, or the deadline.
    private func wake(
        _ feed: WatchFeed, deadline: NIODeadline?, cancellation: ServerContext.RPCCancellationHandle
    ) async throws -> Wake {
        try await withThrowingTaskGroup(of: Wake.self) { group in
            group.addTask {
                try await cancellation.cancelled
                return .cancelled
            }
            group.addTask {
                try await feed.changed()
                return .changed
            }
            group.addTask {
                await self.drained()
                return .draining
            }
            if let deadline {
                group.addTask {
                    let left = deadline - NIODeadline.now()
                    if left.nanoseconds > 0 { try await Task.sleep(nanoseconds: UInt64(left.nanoseconds)) }
                    return .deadline
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }

    /// Returns once the server drains, or the task is cancelled.
    private func drained() async {
        let id = self.state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.state.withLock { state -> Bool in
                    if state.draining || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    private static func goingAway(resume revision: UInt64) -> CallFailure {
        PorticoHandlers.streamEnd(
            CallFailure(.unavailable, "the server is shutting down", reason: .goingAway), resumeAfter: revision)
    }
}
