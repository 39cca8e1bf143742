/// The database schema, as a list of migrations that run in order at start-up.
///
/// The schema version is SQLite's `user_version`; migration `n` (1-based) takes a database from version
/// `n - 1` to `n`, and all pending migrations run in one transaction, so a failed upgrade leaves the file
/// as it was. A file whose version is above the last migration was written by a newer Portico and is
/// refused: an older binary cannot know what its rows mean.
struct Schema {
    struct Migration: Sendable {
        /// What it changes, for error messages.
        let summary: String
        let sql: String
        /// Rewrites rows after `sql`, inside the same transaction (e.g. re-encoding them).
        var rewrite: (@Sendable (SQLiteConnection, (_ done: Int, _ total: Int) -> Void) throws -> Void)?

        init(
            summary: String, sql: String,
            rewrite: (@Sendable (SQLiteConnection, (_ done: Int, _ total: Int) -> Void) throws -> Void)? = nil
        ) {
            self.summary = summary
            self.sql = sql
            self.rewrite = rewrite
        }
    }

    /// How far a long migration has come, for start-up progress lines.
    public struct Progress: Sendable {
        /// The schema version being reached.
        public let version: Int64
        public let summary: String
        public let done: Int
        public let total: Int
    }

    /// Marks the file as Portico's (`PRAGMA application_id`, bytes "PRTC"), so that another program's
    /// SQLite database in the data directory is refused rather than migrated.
    static let applicationID: Int64 = 0x5052_5443

    /// Never edit a migration that has shipped: add one.
    static let migrations: [Migration] = [
        Migration(
            summary: "the change log",
            sql: """
                CREATE TABLE changes (
                    revision  INTEGER PRIMARY KEY,  -- dense from 1; the rowid, so rows sit in revision order
                    time      INTEGER NOT NULL,     -- ms since 1970, as in the change
                    operation TEXT    NOT NULL,     -- the command's name, for people reading the file
                    change    BLOB    NOT NULL      -- the Change as JSON (docs/storage.md)
                ) STRICT;
                """
        ),
        // `change` holds a protobuf StoredChange (storage.proto) without revision and time from here on.
        Migration(
            summary: "changes encoded as protobuf StoredChange instead of JSON",
            sql: "",
            rewrite: JSONRows.reencode
        ),
    ]

    let migrations: [Migration]

    init(migrations: [Migration] = Schema.migrations) { self.migrations = migrations }

    var latestVersion: Int64 { Int64(migrations.count) }

    /// Brings the database up to `latestVersion`, or refuses it.
    /// - Returns: the version the file had before.
    @discardableResult
    func migrate(_ connection: SQLiteConnection, progress: (Progress) -> Void = { _ in }) throws -> Int64 {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            let version = try connection.integer("PRAGMA user_version") ?? 0
            let application = try connection.integer("PRAGMA application_id") ?? 0
            let tables = try connection.integer("SELECT count(*) FROM sqlite_schema") ?? 0
            if application != Self.applicationID, version != 0 || tables != 0 || application != 0 {
                throw StoreError(.notPortico, "\(connection.path) is a SQLite database, but not Portico's")
            }
            if version > latestVersion {
                throw StoreError(
                    .newerSchema,
                    """
                    \(connection.path) has schema version \(version), written by a newer Portico; this one \
                    knows versions up to \(latestVersion). Run the newer portico, or export with it and \
                    import here.
                    """)
            }
            for index in Int(version)..<migrations.count {
                do {
                    let migration = migrations[index]
                    if !migration.sql.isEmpty { try connection.execute(migration.sql) }
                    try migration.rewrite?(connection) { done, total in
                        progress(
                            Progress(version: Int64(index + 1), summary: migration.summary, done: done, total: total))
                    }
                } catch let error as StoreError {
                    throw StoreError(
                        .sqlite,
                        "migration to schema version \(index + 1) (\(migrations[index].summary)) "
                            + "failed: \(error.message)", sqliteCode: error.sqliteCode)
                }
            }
            try connection.execute(
                "PRAGMA application_id = \(Self.applicationID); PRAGMA user_version = \(latestVersion)")
            try connection.execute("COMMIT")
            return version
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
