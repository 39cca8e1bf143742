/// The database schema, as a list of migrations that run in order at start-up.
///
/// The schema version is SQLite's `user_version`; migration `n` (1-based) takes a database from version
/// `n - 1` to `n`, and all pending migrations run in one transaction, so a failed upgrade leaves the file
/// as it was. A file whose version is above the last migration was written by a newer Portico and is
/// refused: an older binary cannot know what its rows mean.
struct Schema {
    struct Migration {
        /// What it changes, for error messages.
        let summary: String
        let sql: String
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
    ]

    let migrations: [Migration]

    init(migrations: [Migration] = Schema.migrations) { self.migrations = migrations }

    var latestVersion: Int64 { Int64(migrations.count) }

    /// Brings the database up to `latestVersion`, or refuses it.
    /// - Returns: the version the file had before.
    @discardableResult
    func migrate(_ connection: SQLiteConnection) throws -> Int64 {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            let version = try connection.integer("PRAGMA user_version") ?? 0
            let application = try connection.integer("PRAGMA application_id") ?? 0
            let tables = try connection.integer("SELECT count(*) FROM sqlite_schema") ?? 0
            if application != Self.applicationID, version != 0 || tables != 0 || application != 0 {
                throw StoreError(.notPortico, "\(connection.path) is a SQLite database, but not Portico's")
            }
            if version > latestVersion {
                throw StoreError(.newerSchema, """
                    \(connection.path) has schema version \(version), written by a newer Portico; this one \
                    knows versions up to \(latestVersion). Run the newer portico, or export with it and \
                    import here.
                    """)
            }
            for index in Int(version)..<migrations.count {
                do {
                    try connection.execute(migrations[index].sql)
                } catch let error as StoreError {
                    throw StoreError(.sqlite, "migration to schema version \(index + 1) (\(migrations[index].summary)) "
                                     + "failed: \(error.message)", sqliteCode: error.sqliteCode)
                }
            }
            try connection.execute("PRAGMA application_id = \(Self.applicationID); PRAGMA user_version = \(latestVersion)")
            try connection.execute("COMMIT")
            return version
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
