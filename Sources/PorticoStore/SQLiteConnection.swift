import CSQLite
import Foundation

/// One SQLite connection: the few calls the store needs, each turning SQLite's result codes into `StoreError`.
///
/// Not thread-safe, like the `sqlite3*` it owns: `SQLiteStore` uses it from one serial queue only.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    let path: String

    /// Opens (or creates, unless `readOnly`) the database at `path`.
    ///
    /// A new database file is created by `PrivateFile` (mode 0600, empty: SQLite takes an empty file for
    /// an empty database) before SQLite opens it, since SQLite would create it 0644; SQLite gives the
    /// WAL and shared-memory files the database file's mode. An existing file an older Portico created
    /// with a wider mode is narrowed.
    init(path: String, readOnly: Bool = false) throws {
        self.path = path
        if !readOnly {
            do {
                try PrivateFile.create(path, bytes: [])
            } catch  where FileManager.default.fileExists(atPath: path) {
                for suffix in ["", "-wal", "-shm"] { PrivateFile.restrict(path + suffix) }
            }
        }
        let flags =
            readOnly
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        var db: OpaquePointer?
        let result = sqlite3_open_v2(path, &db, flags, nil)
        guard result == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError(.cannotOpen, "cannot open \(path): \(message)", sqliteCode: result)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Closes the connection (checkpointing the WAL into the database file); later calls fail.
    func close() {
        sqlite3_close_v2(handle)
        handle = nil
    }

    private func db() throws -> OpaquePointer {
        guard let handle else { throw StoreError(.closed, "the store at \(path) is closed") }
        return handle
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws {
        let db = try db()
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(db, sql, nil, nil, &message)
        guard result == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(result))
            sqlite3_free(message)
            throw StoreError(.sqlite, "\(text) [\(sql.prefix(60))]", sqliteCode: result)
        }
    }

    /// The first column of the first row of `sql`, as an integer (PRAGMA values, counts).
    func integer(_ sql: String) throws -> Int64? {
        let statement = try prepare(sql)
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : nil
    }

    func prepare(_ sql: String) throws -> Statement {
        let db = try db()
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard result == SQLITE_OK, let statement else {
            throw StoreError(.sqlite, "\(String(cString: sqlite3_errmsg(db))) [\(sql.prefix(60))]", sqliteCode: result)
        }
        return Statement(statement, connection: self)
    }

    func error(_ result: Int32) -> StoreError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
        return StoreError(.sqlite, message, sqliteCode: result)
    }

    /// A prepared statement, finalized when released.
    final class Statement {
        private let statement: OpaquePointer
        private let connection: SQLiteConnection

        fileprivate init(_ statement: OpaquePointer, connection: SQLiteConnection) {
            self.statement = statement
            self.connection = connection
        }

        deinit { sqlite3_finalize(statement) }

        func reset() {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }

        func bind(_ index: Int32, _ value: Int64) throws {
            let result = sqlite3_bind_int64(statement, index, value)
            guard result == SQLITE_OK else { throw connection.error(result) }
        }

        func bind(_ index: Int32, _ value: String) throws {
            // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
            let result = sqlite3_bind_text(
                statement, index, value, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            guard result == SQLITE_OK else { throw connection.error(result) }
        }

        func bind(_ index: Int32, _ bytes: [UInt8]) throws {
            let result = bytes.withUnsafeBytes { raw in
                sqlite3_bind_blob(
                    statement, index, raw.baseAddress, Int32(raw.count),
                    unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            }
            guard result == SQLITE_OK else { throw connection.error(result) }
        }

        /// Advances to the next row: true when there is one, false when done.
        func step() throws -> Bool {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            case let result: throw connection.error(result)
            }
        }

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

        func text(_ column: Int32) -> String {
            guard let text = sqlite3_column_text(statement, column) else { return "" }
            return String(cString: text)
        }

        /// Calls `body` with the column's bytes, valid only during the call.
        func withBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
            let count = Int(sqlite3_column_bytes(statement, column))
            guard let base = sqlite3_column_blob(statement, column) else {
                return try body(UnsafeRawBufferPointer(start: nil, count: 0))
            }
            return try body(UnsafeRawBufferPointer(start: base, count: count))
        }
    }
}
