import Logging
import NIOCore
import PorticoCore
import PostgresNIO
import Synchronization

/// A connection to PostgreSQL whose queries fail once it closes, instead of waiting forever.
///
/// postgres-nio (1.x) answers a query only if it reached the connection's channel handler: a query
/// issued after the connection closed (PostgreSQL restarted, the network dropped it) is dropped
/// without an answer, and its caller waits for good, deaf to cancellation. A node that follows the log
/// reads its head every poll, so after a restart of PostgreSQL it sooner or later asks in that window;
/// its follower, and with it the node's catch-up, then stopped for good. Every query goes through here:
/// it runs on a task of its own, and its caller is answered by the query, or fails when the connection
/// has been closed for a second without the query answering (postgres-nio answers every query that
/// reached the connection by then, with what PostgreSQL said or a failure), or when the caller's task
/// is cancelled. Each query postgres-nio dropped leaves its task suspended for good: a few per lost
/// connection at most, as many as were sent in the moment it closed.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    private let watch: CloseWatch

    init(_ connection: PostgresConnection) {
        self.connection = connection
        watch = CloseWatch(connection.closeFuture, on: connection.eventLoop)
    }

    var isClosed: Bool { connection.isClosed }

    /// Runs `query`; throws when the connection closes without answering it, and `CancellationError`
    /// when the caller's task is cancelled (the query may still run: a caller that gives up on a
    /// connection resets it).
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await watch.unlessClosed { [connection] in try await connection.query(query, logger: logger) }
    }

    /// Runs `query`, giving up after `timeout`: the connection is then closed, as a connection that
    /// does not answer a trivial query is taken for lost (a peer gone without a word, which TCP notices
    /// only after many minutes). Only for a connection of the caller's own: the close ends every other
    /// query on it.
    func query(_ query: PostgresQuery, logger: Logger, timeout: Duration) async throws -> PostgresRowSequence {
        let connection = self.connection
        let answered = Atomic<Bool>(false)
        let timer = connection.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            guard !answered.load(ordering: .acquiring) else { return }
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in }
        }
        defer {
            answered.store(true, ordering: .releasing)
            timer.cancel()
        }
        return try await self.query(query, logger: logger)
    }

    func listen<Value>(on channel: String, consume: (PostgresNotificationSequence) async throws -> Value)
        async throws -> Value
    {
        try await connection.listen(on: channel, consume: consume)
    }

    func close() async throws { try await connection.close() }
}

/// The queries waiting on one connection, failed together a second after it closes (the grace lets an
/// answer postgres-nio gave in the closing moment reach its caller first): one callback on the
/// connection's close for its whole life, not one per query.
private final class CloseWatch: Sendable {
    private struct State {
        var closed = false
        var next = 0
        var waiting: [Int: @Sendable () -> Void] = [:]
    }

    private static let grace = TimeAmount.seconds(1)
    private let state = Mutex(State())

    init(_ closed: EventLoopFuture<Void>, on eventLoop: any EventLoop) {
        closed.whenComplete { [self] _ in
            self.state.withLock { $0.closed = true }
            eventLoop.scheduleTask(in: Self.grace) {
                let waiting = self.state.withLock { state in
                    defer { state.waiting = [:] }
                    return state.waiting
                }
                for fail in waiting.values { fail() }
            }
        }
    }

    /// `body`'s result; `PostgresFailure` when the connection closed before `body` began, or a grace
    /// period after it closed with `body` still waiting; `CancellationError` when the task is cancelled.
    func unlessClosed<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let answer = FirstAnswer<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                answer.wait(with: continuation)
                let closedFailure = PostgresFailure("the connection to PostgreSQL closed")
                let id: Int? = state.withLock { state in
                    guard !state.closed else { return nil }
                    state.next += 1
                    state.waiting[state.next] = { answer.give(.failure(closedFailure)) }
                    return state.next
                }
                guard let id else {
                    answer.give(.failure(closedFailure))
                    return
                }
                Task { [self] in
                    let result: Result<T, any Error>
                    do { result = .success(try await body()) } catch { result = .failure(error) }
                    self.state.withLock { _ = $0.waiting.removeValue(forKey: id) }
                    answer.give(result)
                }
            }
        } onCancel: {
            answer.give(.failure(CancellationError()))
        }
    }
}
