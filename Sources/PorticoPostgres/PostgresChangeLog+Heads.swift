import Logging
public import PorticoCore
import PostgresNIO

extension PostgresChangeLog {
    /// The log's head as it moves, on a connection of its own: the head once `LISTEN` is in place
    /// (so no append between the two is missed), then each head another node notifies, and the head
    /// read again every `poll`. Only the newest head is buffered: a follower that falls behind needs
    /// nothing older. Ends by throwing when the connection is lost; ends when the consumer stops.
    public func heads(poll: Duration) -> AsyncThrowingStream<Revision, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: Revision.self,
            bufferingPolicy: .bufferingNewest(1))
        let location = self.location
        let logger = self.logger
        let task = Task {
            do {
                let connection = try await PostgresLink.connect(location, logger: logger)
                do {
                    try await Self.watchHeads(connection, poll: poll, logger: logger, into: continuation)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch {
                continuation.finish(
                    throwing: (error as? PostgresFailure) ?? PostgresFailure("the log's notifications stopped", error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private static func watchHeads(
        _ connection: PostgresSession, poll: Duration, logger: Logger,
        into continuation: AsyncThrowingStream<Revision, any Error>.Continuation
    ) async throws {
        // A head read that takes this long means the connection is lost (a peer gone without closing
        // it): it is closed, which ends the notifications too.
        let patience = max(poll * 10, .seconds(10))
        try await connection.listen(on: channel) { notifications in
            continuation.yield(try await head(connection, logger: logger, lock: false, timeout: patience))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await notification in notifications {
                        // The payload is the head an append committed; a malformed one is only a hint,
                        // and the poll reads the head anyway.
                        if let head = Revision(notification.payload) { continuation.yield(head) }
                    }
                    throw PostgresFailure("the connection for notifications closed")
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: poll)
                        continuation.yield(try await head(connection, logger: logger, lock: false, timeout: patience))
                    }
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }
}
