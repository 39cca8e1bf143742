import Logging
import PorticoStore
import PostgresNIO

/// The shared log's tables, as a list of migrations that run in order at start-up.
///
/// The version is the one row of `portico_schema`; migration `n` (1-based) takes the database from
/// version `n - 1` to `n`. All pending migrations run in one transaction under an advisory lock, so
/// nodes starting together migrate once, and a failed upgrade leaves the database as it was. A
/// database whose version is above the last migration was written by a newer Portico and is refused.
/// Every table is prefixed `portico_`, so the log can share a database with other tables.
struct PostgresSchema {
    /// Never edit a migration that has shipped: add one. Each is a list of statements (postgres-nio
    /// sends one statement per query).
    static let migrations: [[String]] = [
        [
            // The log's head: the newest revision, locked by every append (dense revisions across nodes).
            // `log_id` names this log, so that a node's checkpoints of one log are never used with another.
            """
            CREATE TABLE portico_log_head (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                revision  bigint  NOT NULL,
                log_id    text    NOT NULL
            )
            """,
            "INSERT INTO portico_log_head (revision, log_id) VALUES (0, gen_random_uuid()::text)",
            // One row per change, as in SQLite's `changes`: `change` is a protobuf StoredChange without
            // revision and time (docs/storage.md), `operation` the command's name for people reading it.
            """
            CREATE TABLE portico_changes (
                revision  bigint PRIMARY KEY CHECK (revision > 0),
                time      bigint NOT NULL,
                operation text   NOT NULL,
                change    bytea  NOT NULL
            )
            """,
        ]
    ]

    /// Taken inside the migration's transaction: "PRTC", as SQLite's application id.
    static let advisoryLock: Int64 = 0x5052_5443

    let migrations: [[String]]

    init(migrations: [[String]] = Self.migrations) { self.migrations = migrations }

    var latestVersion: Int { migrations.count }

    /// Brings the database up to `latestVersion`, or refuses it.
    /// - Returns: the version the database had before.
    /// - Throws: `StoreError` `.newerSchema` for a newer database; `PostgresFailure` when a statement fails.
    @discardableResult
    func migrate(_ connection: PostgresSession, logger: Logger, location: PostgresLocation) async throws -> Int {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS portico_schema (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    version   integer NOT NULL
                )
                """, logger: logger)
            var version = 0
            for try await stored in try await connection.query("SELECT version FROM portico_schema", logger: logger)
                .decode(Int.self)
            {
                version = stored
            }
            if version > latestVersion {
                throw StoreError(
                    .newerSchema,
                    """
                    \(location) has schema version \(version), written by a newer Portico; this one knows \
                    versions up to \(latestVersion). Run the newer portico on it.
                    """)
            }
            for index in version..<latestVersion {
                for statement in migrations[index] {
                    do {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    } catch {
                        throw PostgresFailure("migration to schema version \(index + 1) failed", error)
                    }
                }
            }
            try await connection.query(
                """
                INSERT INTO portico_schema (version) VALUES (\(latestVersion))
                ON CONFLICT (singleton) DO UPDATE SET version = excluded.version
                """, logger: logger)
            try await connection.query("COMMIT", logger: logger)
            return version
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            if error is StoreError || error is PostgresFailure { throw error }
            throw PostgresFailure("cannot migrate the schema of \(location)", error)
        }
    }
}
