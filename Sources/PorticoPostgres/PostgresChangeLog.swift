import Foundation
public import Logging
public import PorticoCore
import PorticoReasons
public import PorticoStore
import PostgresNIO

/// The change log in PostgreSQL, shared by any number of nodes (docs/scale-out.md).
///
/// Any node appends: one transaction locks the log's head row, reads what other nodes committed
/// after this node's revision, hands it to the core (which applies it and validates its queued
/// changes again on top), inserts the batch numbered after the head, moves the head and notifies the
/// other nodes (`NOTIFY portico_log`, delivered at COMMIT). So revisions stay one dense sequence for
/// the whole cluster, and a write that lost a race is validated again, never applied twice or out of
/// order. Changes are stored in the SQLite log's encoding (a protobuf StoredChange per row).
///
/// Checkpoints are written to the node's data directory, in a folder named after the log's id, so a
/// checkpoint of one log is never loaded with another.
public final class PostgresChangeLog: SharedChangeLog, CheckpointingStore {
    /// The channel every append notifies, with the new head as payload.
    static let channel = "portico_log"

    public let location: PostgresLocation
    /// The log's id, drawn when its tables were created.
    public let logID: String
    public let checkpoints: CheckpointFiles?
    private let writer: PostgresLink
    private let reader: PostgresLink
    let logger: Logger
    private let report: @Sendable (String) -> Void
    /// Checkpoints are written off the concurrency pool's few threads.
    private let checkpointQueue = DispatchQueue(label: "portico.store.postgres.checkpoint", qos: .utility)

    public var kind: String { "postgres" }

    /// Connects to `location`, migrating its schema.
    /// - Parameters:
    ///   - dataDirectory: where checkpoints go; nil for none (every start replays the whole log).
    ///   - keepCheckpoints: how many to keep, newest first.
    ///   - report: where progress lines and notices go.
    /// - Throws: `PostgresFailure` when PostgreSQL cannot be reached; `StoreError` `.newerSchema`.
    public static func open(
        _ location: PostgresLocation, dataDirectory: String? = nil, keepCheckpoints: Int = 2,
        logger: Logger = Logger(label: "portico.postgres", factory: { _ in SwiftLogNoOpLogHandler() }),
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> PostgresChangeLog {
        let writer = PostgresLink(location: location, logger: logger)
        var logID = ""
        do {
            let connection = try await writer.connection()
            let before = try await PostgresSchema().migrate(connection, logger: logger, location: location)
            if before < PostgresSchema().latestVersion {
                report("\(location): schema version \(before) migrated to \(PostgresSchema().latestVersion)")
            }
            do {
                for try await id in try await connection.query("SELECT log_id FROM portico_log_head", logger: logger)
                    .decode(String.self)
                {
                    logID = id
                }
            } catch {
                throw PostgresFailure("cannot read the log's head", error)
            }
        } catch {
            // postgres-nio requires every connection closed before it is released.
            await writer.reset()
            throw error
        }
        let checkpoints = try dataDirectory.map { directory in
            let folder = (directory as NSString).appendingPathComponent("postgres-\(logID)")
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError(.cannotOpen, "cannot create \(folder): \(error.localizedDescription)")
            }
            return CheckpointFiles(directory: folder, keep: keepCheckpoints)
        }
        return PostgresChangeLog(
            location: location, logID: logID, checkpoints: checkpoints, writer: writer,
            logger: logger, report: report)
    }

    private init(
        location: PostgresLocation, logID: String, checkpoints: CheckpointFiles?, writer: PostgresLink,
        logger: Logger, report: @escaping @Sendable (String) -> Void
    ) {
        self.location = location
        self.logID = logID
        self.checkpoints = checkpoints
        self.writer = writer
        reader = PostgresLink(location: location, logger: logger)
        self.logger = logger
        self.report = report
    }

    // MARK: - ChangeStore

    /// Appends a batch no other node can have written before: only for a log this node alone writes
    /// (an import); the core appends through `append(after:prepare:)`.
    public func append(_ changes: [Change]) async throws {
        guard let first = changes.first else { return }
        try await append(after: first.revision - 1) { missed in
            guard missed.isEmpty else {
                throw StoreError(.outOfOrder, "the log holds changes after \(first.revision - 1) already")
            }
            return changes
        }
    }

    public func append(after known: Revision, prepare: @Sendable (_ missed: [Change]) throws -> [Change]) async throws {
        let connection: PostgresSession
        do {
            connection = try await writer.connection()
        } catch {
            throw Self.unavailable(error)
        }
        var committing = false
        do {
            try await connection.query("BEGIN", logger: logger)
            let head = try await Self.head(connection, logger: logger, lock: true)
            guard head >= known else {
                throw LogInconsistency("the log's head is \(head), behind this node's revision \(known)")
            }
            let missed =
                head > known ? try await Self.read(connection, after: known, through: head, logger: logger) : []
            let batch = try prepare(missed)
            if !batch.isEmpty {
                try await insert(batch, after: head, on: connection)
            }
            committing = true
            try await connection.query("COMMIT", logger: logger)
        } catch {
            let answered = PostgresFailure.isServerError(error)
            if committing, !answered {
                // The connection broke with COMMIT sent: it may have committed, or not. The core rolls
                // back its tentative state; the follower (or the next append) finds out from the log.
                await writer.reset()
                throw PorticoError(
                    .unavailable,
                    """
                    the connection to PostgreSQL broke during COMMIT (\(PostgresFailure("COMMIT", error))): \
                    the change may or may not be in the log; read it back before retrying
                    """, reason: .commitUncertain)
            }
            let ours = error is LogInconsistency || error is StoreError || error is PorticoError
            if (answered || ours) && !connection.isClosed {
                // The connection works: end the transaction (an aborted one, or one this node gives up).
                if (try? await connection.query("ROLLBACK", logger: logger)) == nil { await writer.reset() }
            } else {
                await writer.reset()
            }
            if ours { throw error }
            throw Self.unavailable(error)
        }
    }

    public func load() async throws -> [Change] {
        let connection = try await reader.connection()
        do {
            let head = try await Self.head(connection, logger: logger, lock: false)
            return try await Self.read(connection, after: 0, through: head, logger: logger)
        } catch {
            await reader.reset()
            throw error
        }
    }

    /// The newest checkpoint of this log in the data directory that reads whole, and the log after it.
    public func recover() async throws -> Recovery {
        let connection = try await reader.connection()
        let head: Revision
        do {
            head = try await Self.head(connection, logger: logger, lock: false)
        } catch {
            await reader.reset()
            throw error
        }
        let base = checkpoints?.newest(upTo: head, report: report, progress: { _, _ in })
        if let base { report("checkpoint at revision \(base.revision) loaded; the log holds \(head)") }
        do {
            let changes = try await Self.read(connection, after: base?.revision ?? 0, through: head, logger: logger)
            return Recovery(base: base?.state, changes: changes)
        } catch {
            await reader.reset()
            throw error
        }
    }

    // MARK: - SharedChangeLog

    public func changes(after revision: Revision, limit: Int) async throws -> [Change] {
        let connection = try await reader.connection()
        do {
            return try await Self.read(connection, after: revision, limit: limit, logger: logger)
        } catch {
            if !PostgresFailure.isServerError(error) { await reader.reset() }
            throw error
        }
    }

    // MARK: - CheckpointingStore

    @discardableResult
    public func writeCheckpoint(_ state: AccessState, now: Timestamp) async throws -> (path: String, bytes: Int) {
        guard let checkpoints else { throw StoreError(.cannotOpen, "\(location): no data directory for checkpoints") }
        return try await withCheckedThrowingContinuation { continuation in
            checkpointQueue.async { continuation.resume(with: Result { try checkpoints.write(state, now: now) }) }
        }
    }

    /// Closes the connections.
    public func close() async {
        await writer.reset()
        await reader.reset()
    }

    // MARK: - Rows

    /// The log's head revision; with `lock`, locked until the transaction ends (appends serialise here).
    /// With `timeout`, a read that takes longer closes the connection and throws.
    static func head(
        _ connection: PostgresSession, logger: Logger, lock: Bool, timeout: Duration? = nil
    ) async throws -> Revision {
        do {
            let sql = PostgresQuery(
                unsafeSQL: lock
                    ? "SELECT revision FROM portico_log_head FOR UPDATE" : "SELECT revision FROM portico_log_head")
            let rows =
                if let timeout {
                    try await connection.query(sql, logger: logger, timeout: timeout)
                } else {
                    try await connection.query(sql, logger: logger)
                }
            for try await revision in rows.decode(Int64.self) {
                return Revision(revision)
            }
        } catch let cancelled as CancellationError {
            throw cancelled
        } catch {
            throw PostgresFailure("cannot read the log's head", error)
        }
        throw StoreError(.corrupt, "the log's head row is missing")
    }

    /// The changes after `revision` (up to `head`, or `limit` of them), in revision order, checked dense.
    static func read(
        _ connection: PostgresSession, after revision: Revision, through head: Revision? = nil,
        limit: Int? = nil, logger: Logger
    ) async throws -> [Change] {
        let rows: PostgresRowSequence
        do {
            let after = Int64(revision)
            let upTo = Int64(head ?? Revision(Int64.max))
            let count = Int64(limit ?? Int.max)
            rows = try await connection.query(
                """
                SELECT revision, time, change FROM portico_changes
                WHERE revision > \(after) AND revision <= \(upTo) ORDER BY revision LIMIT \(count)
                """, logger: logger)
        } catch let cancelled as CancellationError {
            throw cancelled
        } catch {
            throw PostgresFailure("cannot read the log", error)
        }
        var changes: [Change] = []
        if let head, head > revision { changes.reserveCapacity(Int(head - revision)) }
        let coder = ChangeCoding()
        do {
            for try await (stored, time, bytes) in rows.decode((Int64, Int64, ByteBuffer).self) {
                let expected = revision + Revision(changes.count) + 1
                guard Revision(stored) == expected else {
                    throw LogInconsistency("revision \(stored) follows \(expected - 1) in the log")
                }
                changes.append(
                    try bytes.withUnsafeReadableBytes {
                        try coder.decode($0, revision: expected, time: Timestamp(milliseconds: time))
                    })
            }
        } catch let error as LogInconsistency {
            throw error
        } catch let error as StoreError {
            throw LogInconsistency("change \(revision + Revision(changes.count) + 1) does not decode: \(error)")
        } catch let cancelled as CancellationError {
            throw cancelled
        } catch {
            throw PostgresFailure("cannot read the log", error)
        }
        if let head, limit == nil, revision + Revision(changes.count) != head {
            throw LogInconsistency(
                "the log's head is \(head), but it holds changes up to \(revision + Revision(changes.count))")
        }
        return changes
    }

    /// Inserts `batch` after `head` (locked by this transaction), moves the head and notifies the other
    /// nodes: one statement, one round trip.
    private func insert(_ batch: [Change], after head: Revision, on connection: PostgresSession) async throws {
        for (offset, change) in batch.enumerated() where change.revision != head + 1 + Revision(offset) {
            throw StoreError(.outOfOrder, "change \(change.revision) does not follow \(head + Revision(offset))")
        }
        var coder = ChangeCoding()
        var revisions: [Int64] = []
        var times: [Int64] = []
        var operations: [String] = []
        var bodies: [ByteBuffer] = []
        for change in batch {
            revisions.append(Int64(change.revision))
            times.append(change.time.milliseconds)
            operations.append(change.command.name)
            bodies.append(ByteBuffer(bytes: try coder.encode(change, envelope: false)))
        }
        let last = Int64(batch[batch.count - 1].revision)
        let text = String(last)
        do {
            try await connection.query(
                """
                WITH inserted AS (
                    INSERT INTO portico_changes (revision, time, operation, change)
                    SELECT * FROM unnest(\(revisions)::int8[], \(times)::int8[], \(operations)::text[],
                                         \(bodies)::bytea[])
                ), moved AS (
                    UPDATE portico_log_head SET revision = \(last)
                )
                SELECT pg_notify('\(unescaped: Self.channel)', \(text))
                """, logger: logger)
        } catch {
            throw PostgresFailure("cannot append to the log", error)
        }
    }

    /// UNAVAILABLE (`STORE_FAILED`) for a batch that provably did not commit.
    private static func unavailable(_ error: any Error) -> PorticoError {
        let reason = (error as? PostgresFailure) ?? PostgresFailure("PostgreSQL failed", error)
        return PorticoError(.unavailable, "the store did not accept the change: \(reason)", reason: .storeFailed)
    }
}
