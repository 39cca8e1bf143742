import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// One connection to PostgreSQL, opened when first needed and again after it was lost.
///
/// An actor, so that two callers asking at once share one connect instead of racing two; what it
/// hands out is used outside it (a `PostgresConnection` is Sendable and queues its queries itself),
/// as a `PostgresSession`, whose queries fail when the connection closes.
actor PostgresLink {
    private let location: PostgresLocation
    private let logger: Logger
    private var open: PostgresSession?
    private var connecting: Task<PostgresSession, any Error>?
    /// postgres-nio numbers connections for its logs; one sequence for the process.
    private static let ids = Atomic<Int>(0)

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    /// A link dropped without `reset()` (its log released without `close()`, as a test that fails
    /// midway does) still closes its connection, kept alive until it is closed: postgres-nio requires
    /// that of every connection it made (a debug build stops the process otherwise).
    deinit {
        guard let connection = open?.connection, !connection.isClosed else { return }
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// The open connection, or a new one.
    /// - Throws: `PostgresFailure` when PostgreSQL cannot be reached or refuses the login.
    func connection() async throws -> PostgresSession {
        if let open, !open.isClosed { return open }
        if let connecting { return try await connecting.value }
        let task = Task { [location, logger] in try await Self.connect(location, logger: logger) }
        connecting = task
        defer { connecting = nil }
        let connection = try await task.value
        open = connection
        return connection
    }

    /// Drops the connection after a failure that leaves its state unknown: the next use opens another.
    func reset() async {
        let dropped = open
        open = nil
        try? await dropped?.close()
    }

    /// Opens a connection of its own (a listener's), which the caller closes.
    static func connect(_ location: PostgresLocation, logger: Logger) async throws -> PostgresSession {
        do {
            let id = ids.add(1, ordering: .relaxed).newValue
            return PostgresSession(
                try await PostgresConnection.connect(
                    configuration: try location.configuration(), id: id,
                    logger: logger))
        } catch {
            throw PostgresFailure("cannot connect to \(location)", error)
        }
    }
}

/// A failure talking to PostgreSQL, in words for logs and statuses: PostgreSQL's own message and
/// SQLSTATE when it gave one (postgres-nio's `PSQLError` prints only a generic line, so that query
/// text never leaks into logs by accident).
public struct PostgresFailure: Error, CustomStringConvertible {
    public let description: String
    /// PostgreSQL's SQLSTATE, when the server answered with an error.
    public let sqlState: String?
    /// Whether that error ended the session (severity FATAL or PANIC: the server closes the connection,
    /// and during COMMIT it may have committed first, as when it is shut down while a synchronous
    /// standby has not confirmed a commit).
    let endedSession: Bool

    init(_ what: String, _ error: (any Error)? = nil) {
        guard let error else {
            description = what
            sqlState = nil
            endedSession = false
            return
        }
        if let failure = error as? PostgresFailure {
            description = "\(what): \(failure.description)"
            sqlState = failure.sqlState
            endedSession = failure.endedSession
        } else if let error = error as? PSQLError {
            sqlState = error.serverInfo?[.sqlState]
            endedSession = ["FATAL", "PANIC"].contains(error.serverInfo?[.severity] ?? "")
            if let message = error.serverInfo?[.message] {
                description = "\(what): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
            } else if let underlying = error.underlying {
                description = "\(what): \(error.code) (\(underlying))"
            } else {
                description = "\(what): \(error.code)"
            }
        } else {
            description = "\(what): \(error)"
            sqlState = nil
            endedSession = false
        }
    }

    /// Whether PostgreSQL itself answered with an error that leaves the connection usable (the
    /// transaction, if any, aborted), rather than the connection failing or the server ending the
    /// session (FATAL, PANIC: a COMMIT answered so may have committed).
    static func isServerError(_ error: any Error) -> Bool {
        let failure = (error as? PostgresFailure) ?? PostgresFailure("", error)
        return failure.sqlState != nil && !failure.endedSession
    }
}
