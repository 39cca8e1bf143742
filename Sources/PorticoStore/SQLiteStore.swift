import Dispatch
import Foundation
public import PorticoCore

/// The core's change log in one SQLite database file: the embedded, durable default.
///
/// One row per change (`Schema`), appended a batch per transaction: the core's `Sequencer` hands over
/// every change queued while the previous batch was being written, so N concurrent writers cost one
/// fsync, not N (group commit), and `append` returns, letting the core acknowledge, only after COMMIT.
///
/// Durability: WAL journal with `synchronous = FULL`. In WAL mode FULL syncs the WAL file at every
/// commit, so a transaction that COMMIT reported survives power loss and OS crash. NORMAL, the usual WAL
/// pairing, syncs only at checkpoints: a committed transaction survives the process being killed but
/// may roll back after power loss, which would un-acknowledge a change. EXTRA adds only a directory sync
/// for DELETE-mode journals, which WAL does not use. `fullfsync` makes macOS flush the drive cache too.
///
/// Secrets: a change holds only SHA-256 digests of the secrets its command generated, never a secret.
public final class SQLiteStore: ChangeStore, CheckpointingStore, @unchecked Sendable {
    // @unchecked Sendable: the connection, its statements and `state` are touched only on `queue`, a
    // serial queue; the other stored properties are immutable. The queue also keeps SQLite's blocking
    // calls (fsync) off the Swift concurrency pool, whose few threads serve the server's connections.

    /// The database's file name inside the data directory.
    public static let fileName = "portico.sqlite"

    public var kind: String { "sqlite" }

    /// The database file.
    public let path: String

    private enum State {
        case open(last: Revision)
        /// A commit failed in a way that leaves the file's content uncertain: refuse writes until restart.
        case failed(StoreError)
        case closed
    }

    private let queue = DispatchQueue(label: "portico.store.sqlite")
    /// Checkpoints are written on their own queue, so that appends go on meanwhile.
    private let checkpointQueue = DispatchQueue(label: "portico.store.checkpoint", qos: .utility)
    let connection: SQLiteConnection
    private var insert: SQLiteConnection.Statement?
    private var state: State
    private var coder = ChangeCoding()
    /// The data directory's lock when this store took it itself.
    private let lock: DataDirectory?
    /// The data directory's checkpoints; nil for a database opened by path alone (an import's).
    public let checkpoints: CheckpointFiles?
    /// Where progress lines and notices go (start-up, damaged checkpoints).
    let report: @Sendable (String) -> Void

    /// Opens the store in `directory` (created if missing, mode 0700), migrating its schema, and holds
    /// the directory's lock until `close()`.
    /// - Parameter report: where progress lines (a long migration) and notices go.
    /// - Throws: `StoreError`: `.locked` when another process (or store) holds the directory, or the file
    ///   cannot be opened, is not Portico's, or has a newer schema.
    public convenience init(directory: String, report: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let held = try DataDirectory(path: directory)
        try self.init(
            path: held.file(Self.fileName), ownedLock: held,
            checkpoints: CheckpointFiles(directory: directory), report: report)
    }

    /// Opens the store in a data directory the caller holds (and releases, after `close()`).
    /// - Parameter keepCheckpoints: how many checkpoints to keep (the newest; at least 1).
    public convenience init(
        dataDirectory: DataDirectory, keepCheckpoints: Int = 2,
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        try self.init(
            path: dataDirectory.file(Self.fileName),
            checkpoints: CheckpointFiles(directory: dataDirectory.path, keep: keepCheckpoints), report: report)
    }

    /// Opens the database file at `path`; `ownedLock`, when given, is the data directory's lock, which
    /// the store releases at `close()`.
    init(
        path: String, schema: Schema = Schema(), ownedLock: DataDirectory? = nil, checkpoints: CheckpointFiles? = nil,
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.path = path
        lock = ownedLock
        self.checkpoints = checkpoints
        self.report = report
        connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA busy_timeout = 5000")
        let mode = try connection.prepare("PRAGMA journal_mode = WAL")
        let wal = try mode.step() && mode.text(0).lowercased() == "wal"
        mode.reset()
        guard wal else {
            throw StoreError(.cannotOpen, "\(path): SQLite would not switch to WAL mode")
        }
        try connection.execute("PRAGMA synchronous = FULL; PRAGMA fullfsync = ON; PRAGMA checkpoint_fullfsync = ON")
        var meter: (version: Int64, meter: ProgressMeter)?
        try schema.migrate(connection) { progress in
            if meter?.version != progress.version {
                let what = "migrating \(path) to schema version \(progress.version) (\(progress.summary))"
                meter = (progress.version, ProgressMeter(what, report: report))
                // Said at once: a migration holds up start-up, and whoever waits should know why.
                report("\(what): \(progress.total) changes to rewrite")
            }
            meter?.meter.update(progress.done, progress.total)
        }
        insert = try connection.prepare(
            "INSERT INTO changes (revision, time, operation, change) VALUES (?1, ?2, ?3, ?4)")
        let last = try connection.integer("SELECT coalesce(max(revision), 0) FROM changes") ?? 0
        state = .open(last: Revision(last))
    }

    /// Whether a data directory holds a database already.
    public static func exists(in directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(fileName))
    }

    // MARK: - ChangeStore

    public func append(_ changes: [Change]) async throws {
        guard !changes.isEmpty else { return }
        try await onQueue { try self.write(changes) }
    }

    public func load() async throws -> [Change] {
        try await onQueue { try Self.readLog(self.connection, after: 0) }
    }

    /// The newest checkpoint that reads whole (a damaged one is reported and passed over) and the
    /// changes after it; without one, every change.
    public func recover() async throws -> Recovery {
        try await onQueue {
            let last: Revision
            switch self.state {
            case .open(let stored): last = stored
            case .failed(let error): throw error
            case .closed: throw StoreError(.closed, "the store at \(self.path) is closed")
            }
            let meter = ProgressMeter("loading the checkpoint", report: self.report)
            let base = self.checkpoints?.newest(upTo: last, report: self.report, progress: meter.update)
            if let base { self.report("checkpoint at revision \(base.revision) loaded; the log holds \(last)") }
            let reading = ProgressMeter("reading the log after revision \(base?.revision ?? 0)", report: self.report)
            let changes = try Self.readLog(self.connection, after: base?.revision ?? 0, progress: reading.update)
            return Recovery(base: base?.state, changes: changes)
        }
    }

    /// Writes `state` (a published, so durable, snapshot) as a checkpoint, on a queue of its own: appends
    /// and checks go on meanwhile. - Returns: the checkpoint's path and size.
    @discardableResult
    public func writeCheckpoint(_ state: AccessState, now: Timestamp) async throws -> (path: String, bytes: Int) {
        guard let checkpoints else { throw StoreError(.cannotOpen, "\(path) has no data directory for checkpoints") }
        return try await withCheckedThrowingContinuation { continuation in
            checkpointQueue.async { continuation.resume(with: Result { try checkpoints.write(state, now: now) }) }
        }
    }

    // MARK: - Other operations

    /// The last stored revision (0 when empty).
    public var revision: Revision {
        get async throws {
            try await onQueue {
                switch self.state {
                case .open(let last): return last
                case .failed(let error): throw error
                case .closed: throw StoreError(.closed, "the store at \(self.path) is closed")
                }
            }
        }
    }

    /// Closes the database, checkpointing the WAL into it; later calls fail.
    public func close() async {
        await withCheckedContinuation { continuation in
            queue.async {
                // Finalize first: SQLite defers a close (and its checkpoint) while a statement lives.
                self.insert = nil
                self.connection.close()
                self.state = .closed
                self.lock?.release()
                continuation.resume()
            }
        }
    }

    /// Runs raw SQL on the store's connection: tests use it to simulate a full or read-only disk.
    func execute(_ sql: String) async throws {
        try await onQueue { try self.connection.execute(sql) }
    }

    /// The first column of the first row of `sql` on the store's connection, for tests.
    func integer(_ sql: String) async throws -> Int64? {
        try await onQueue { try self.connection.integer(sql) }
    }

    // MARK: - On the queue

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private func write(_ changes: [Change]) throws {
        let last: Revision
        switch state {
        case .open(let stored): last = stored
        case .failed(let error): throw error
        case .closed: throw StoreError(.closed, "the store at \(path) is closed")
        }
        for (offset, change) in changes.enumerated() where change.revision != last + 1 + Revision(offset) {
            throw StoreError(.outOfOrder, "change \(change.revision) does not follow \(last + Revision(offset))")
        }
        // Encode before the transaction: nothing fails inside it but SQLite.
        guard let insert else { throw StoreError(.closed, "the store at \(path) is closed") }
        let rows = try changes.map { change in (change, try coder.encode(change, envelope: false)) }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            for (change, body) in rows {
                insert.reset()
                try insert.bind(1, Int64(change.revision))
                try insert.bind(2, change.time.milliseconds)
                try insert.bind(3, change.command.name)
                try insert.bind(4, body)
                _ = try insert.step()
            }
            insert.reset()
            try connection.execute("COMMIT")
        } catch let failure as StoreError {
            insert.reset()
            try? connection.execute("ROLLBACK")
            // A failed INSERT rolls back cleanly; a failed COMMIT (an fsync error) may leave the batch in
            // the WAL. Only when the file provably ends where it did may the store go on.
            let stored = try? connection.integer("SELECT coalesce(max(revision), 0) FROM changes")
            if stored != Int64(last) {
                state = .failed(
                    StoreError(
                        .sqlite,
                        "an earlier commit failed uncertainly (\(failure.message)); "
                            + "restart to reload the log", sqliteCode: failure.sqliteCode))
            }
            throw failure
        }
        state = .open(last: changes[changes.count - 1].revision)
    }

    /// Every change in the database at `path`, read through a read-only connection that migrates nothing:
    /// for reading a directory another process holds.
    /// - Throws: `StoreError`; `.newerSchema` or `.corrupt` when the file's schema is not this binary's.
    static func readOnlyLog(at path: String) throws -> [Change] {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        defer { connection.close() }
        let version = try connection.integer("PRAGMA user_version") ?? 0
        guard try connection.integer("PRAGMA application_id") == Schema.applicationID else {
            throw StoreError(.notPortico, "\(path) is not a Portico database")
        }
        guard version == Schema().latestVersion else {
            throw StoreError(
                .newerSchema,
                "\(path) has schema version \(version); this portico reads version "
                    + "\(Schema().latestVersion) (the server holding it upgrades it at start-up)")
        }
        return try readLog(connection, after: 0)
    }

    /// The changes after `revision`, in one read transaction (a consistent snapshot even while another
    /// connection writes), checked dense.
    static func readLog(
        _ connection: SQLiteConnection, after revision: Revision,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws -> [Change] {
        let path = connection.path
        try connection.execute("BEGIN")
        defer { try? connection.execute("COMMIT") }
        let count = Int(try connection.integer("SELECT count(*) FROM changes WHERE revision > \(revision)") ?? 0)
        var changes: [Change] = []
        changes.reserveCapacity(count)
        let select = try connection.prepare(
            "SELECT revision, time, change FROM changes WHERE revision > ?1 ORDER BY revision")
        defer { select.reset() }
        try select.bind(1, Int64(revision))
        let coder = ChangeCoding()
        while try select.step() {
            let stored = Revision(select.int64(0))
            let expected = revision + Revision(changes.count) + 1
            guard stored == expected else {
                throw StoreError(.corrupt, "\(path): revision \(stored) follows \(expected - 1)")
            }
            let time = Timestamp(milliseconds: select.int64(1))
            do {
                changes.append(try select.withBytes(2) { try coder.decode($0, revision: stored, time: time) })
            } catch {
                throw StoreError(.corrupt, "\(path): change \(stored) does not decode: \(error)")
            }
            if changes.count % 100_000 == 0 { progress(changes.count, count) }
        }
        progress(changes.count, count)
        return changes
    }
}
