import Foundation
import PorticoCore

/// The change rows of schema version 1, which held each `Change` as JSON (its Codable encoding).
enum JSONRows {
    /// Rows re-encoded per statement: bounded memory whatever the log's length.
    static let chunk = 10_000

    /// Migration 2: re-encodes every row's `change` from JSON to a `StoredChange` (without revision and
    /// time, which the row's columns hold). Runs inside the migration's transaction: a crash or an
    /// error leaves every row as it was, and the next start-up begins again.
    /// - Throws: `StoreError` `.corrupt` naming the first row that is not a change.
    static func reencode(_ connection: SQLiteConnection, _ progress: (_ done: Int, _ total: Int) -> Void) throws {
        let total = Int(try connection.integer("SELECT count(*) FROM changes") ?? 0)
        let select = try connection.prepare(
            "SELECT revision, change FROM changes WHERE revision > ?1 ORDER BY revision LIMIT \(chunk)")
        let update = try connection.prepare("UPDATE changes SET change = ?2 WHERE revision = ?1")
        let decoder = JSONDecoder()
        var coder = ChangeCoding()
        var last: Int64 = 0
        var done = 0
        progress(0, total)
        while true {
            select.reset()
            try select.bind(1, last)
            var rows: [(Int64, [UInt8])] = []
            while try select.step() {
                let revision = select.int64(0)
                let change: Change
                do {
                    change = try select.withBytes(1) { try decoder.decode(Change.self, from: Data($0)) }
                } catch {
                    throw StoreError(
                        .corrupt, "\(connection.path): change \(revision) is not JSON of a change: \(error)")
                }
                guard change.revision == Revision(revision) else {
                    throw StoreError(.corrupt, "\(connection.path): row \(revision) holds change \(change.revision)")
                }
                rows.append((revision, try coder.encode(change, envelope: false)))
            }
            select.reset()
            guard let end = rows.last?.0 else { break }
            for (revision, bytes) in rows {
                update.reset()
                try update.bind(1, revision)
                try update.bind(2, bytes)
                _ = try update.step()
            }
            update.reset()
            last = end
            done += rows.count
            progress(done, total)
        }
    }
}
