import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A connection to PostgreSQL whose queries fail once it closes, instead of waiting forever.
///
/// postgres-nio (1.x) answers a query only if it reached the connection's channel handler: a query
/// issued after the connection closed (PostgreSQL restarted, the network dropped it) is dropped
/// without an answer, and its caller waits for good, deaf to cancellation. A node that follows the log
/// reads its head every poll, so after a restart of PostgreSQL it sooner or later asks in that window;
/// its follower, and with it the node's catch-up, then stopped for good. Every query goes through here:
/// it runs on a task of its own, and its caller is answered by whichever comes first, the query or the
/// connection's close. A query lost that way leaves one suspended task behind, once per lost
/// connection at most.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    private let watch: CloseWatch

    init(_ connection: PostgresConnection) {
        self.connection = connection
        watch = CloseWatch(connection.closeFuture)
    }

    var isClosed: Bool { connection.isClosed }

    /// Runs `query`; throws when the connection closes first.
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await watch.unlessClosed { [connection] in try await connection.query(query, logger: logger) }
    }

    /// Runs `query`, giving up after `timeout`: the connection is then closed, as a connection that
    /// does not answer a trivial query is taken for lost (a peer gone without a word, which TCP notices
    /// only after many minutes).
    func query(_ query: PostgresQuery, logger: Logger, timeout: Duration) async throws -> PostgresRowSequence {
        let connection = self.connection
        let timer = connection.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in }
        }
        defer { timer.cancel() }
        return try await self.query(query, logger: logger)
    }

    func listen<Value>(on channel: String, consume: (PostgresNotificationSequence) async throws -> Value)
        async throws -> Value
    {
        try await connection.listen(on: channel, consume: consume)
    }

    func close() async throws { try await connection.close() }
}

/// The queries waiting on one connection, failed together when it closes: one callback on the
/// connection's close for its whole life, not one per query.
private final class CloseWatch: Sendable {
    private struct State {
        var closed = false
        var next = 0
        var waiting: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    init(_ closed: EventLoopFuture<Void>) {
        closed.whenComplete { [self] _ in
            let waiting = self.state.withLock { state in
                state.closed = true
                defer { state.waiting = [:] }
                return state.waiting
            }
            for fail in waiting.values { fail() }
        }
    }

    /// `body`'s result, or `PostgresFailure` as soon as the connection closes.
    func unlessClosed<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let answer = Answer<T>()
        return try await withCheckedThrowingContinuation { continuation in
            answer.await(continuation)
            let closedFailure = PostgresFailure("the connection to PostgreSQL closed")
            let id: Int? = state.withLock { state in
                guard !state.closed else { return nil }
                state.next += 1
                state.waiting[state.next] = { answer.resume(with: .failure(closedFailure)) }
                return state.next
            }
            guard let id else {
                answer.resume(with: .failure(closedFailure))
                return
            }
            Task { [self] in
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                self.state.withLock { _ = $0.waiting.removeValue(forKey: id) }
                answer.resume(with: result)
            }
        }
    }
}

/// A continuation resumed once, by whichever side answers first.
private final class Answer<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func await(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(with result: Result<T, any Error>) {
        let waiting = continuation.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(with: result)
    }
}
