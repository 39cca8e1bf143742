import Foundation
import NIOCore
public import PorticoCore
import PorticoWire

/// The export file (proto/portico/v1/export.proto): an `ExportHeader`, then every change as an
/// `ExportedChange`, each message preceded by its length as a varint (protobuf's delimited form).
public enum ExportFile {
    static let format = "portico.export"
    /// Version 2: `ExportedChange.change` is a `StoredChange` (protobuf), as in the database.
    static let formatVersion: UInt32 = 2
    static let changeEncoding = "protobuf"
    /// Version 1 (Portico before the binary change log): the core's `Change` as JSON. Still read.
    static let jsonVersion: UInt32 = 1

    /// Writes `changes` (revisions 1...n, a consistent snapshot) to `path`, replacing it, and syncs it.
    /// - Parameter progress: called now and then with the changes encoded and their total.
    public static func write(
        _ changes: [Change], to path: String, now: Timestamp,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws {
        var coder = ChangeCoding()
        let arena = WireArena()
        var buffer = ByteBufferAllocator().buffer(capacity: 64 * 1024)
        let header = ExportHeader(
            format: format, formatVersion: formatVersion, revision: changes.last?.revision ?? 0,
            changeCount: UInt64(changes.count), exportedAtUnixMillis: now.milliseconds,
            changeEncoding: changeEncoding)
        try appendDelimited(header, to: &buffer, arena: arena)
        for (index, change) in changes.enumerated() {
            let message = ExportedChange(
                revision: change.revision, timeUnixMillis: change.time.milliseconds,
                operation: change.command.name, change: try coder.encode(change, envelope: false))
            try appendDelimited(message, to: &buffer, arena: arena)
            arena.reset()
            if (index + 1) % 10_000 == 0 { progress(index + 1, changes.count) }
        }
        progress(changes.count, changes.count)
        let temporary = path + ".partial"
        try? FileManager.default.removeItem(atPath: temporary)
        try PrivateFile.create(temporary, bytes: buffer.readableBytesView)
        guard rename(temporary, path) == 0 else {
            throw StoreError(.cannotOpen, "cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        try PrivateFile.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Reads and checks an export: its header, and every change against its envelope and its predecessor.
    /// - Throws: `StoreError` (`.corrupt`) naming what is wrong.
    /// - Parameter progress: called now and then with the changes read and the header's count.
    public static func read(from path: String, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws
        -> [Change]
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(.cannotOpen, "cannot read \(path)")
        }
        let bytes = [UInt8](data)
        var offset = 0
        let arena = WireArena()
        let header = try nextMessage(bytes, &offset, path, as: ExportHeader.self, arena: arena)
        guard header.format == format else { throw StoreError(.corrupt, "\(path) is not a Portico export") }
        let json = header.formatVersion == jsonVersion && header.changeEncoding == "json"
        guard json || (header.formatVersion == formatVersion && header.changeEncoding == changeEncoding) else {
            throw StoreError(
                .newerSchema,
                "\(path) is export format \(header.formatVersion) (\(header.changeEncoding)); "
                    + "this portico reads formats \(jsonVersion) (json) and \(formatVersion) (\(changeEncoding))")
        }
        let decoder = JSONDecoder()
        let coder = ChangeCoding()
        var changes: [Change] = []
        changes.reserveCapacity(Int(min(header.changeCount, 100_000_000)))
        while offset < bytes.count {
            let message = try nextMessage(bytes, &offset, path, as: ExportedChange.self, arena: arena)
            arena.reset()
            let expected = Revision(changes.count) + 1
            let change: Change
            do {
                if json {
                    change = try decoder.decode(Change.self, from: Data(message.change))
                } else {
                    change = try message.change.withUnsafeBytes {
                        try coder.decode(
                            $0, revision: message.revision, time: Timestamp(milliseconds: message.timeUnixMillis))
                    }
                }
            } catch {
                throw StoreError(.corrupt, "\(path): change \(expected) does not decode: \(error)")
            }
            guard message.revision == expected, change.revision == expected,
                change.time.milliseconds == message.timeUnixMillis, change.command.name == message.operation
            else { throw StoreError(.corrupt, "\(path): change \(expected) is out of order or inconsistent") }
            changes.append(change)
            if changes.count % 10_000 == 0 { progress(changes.count, Int(header.changeCount)) }
        }
        progress(changes.count, Int(header.changeCount))
        guard UInt64(changes.count) == header.changeCount, changes.last?.revision ?? 0 == header.revision else {
            throw StoreError(
                .corrupt,
                "\(path): the header promises \(header.changeCount) changes up to revision "
                    + "\(header.revision); the file holds \(changes.count) (truncated?)")
        }
        return changes
    }

    private static func appendDelimited(_ message: some WireMessage, to buffer: inout ByteBuffer, arena: WireArena)
        throws
    {
        var body = ByteBufferAllocator().buffer(capacity: 256)
        try message.encode(into: &body, arena: arena)
        var length = UInt64(body.readableBytes)
        while length >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        buffer.writeInteger(UInt8(length))
        buffer.writeBuffer(&body)
    }

    private static func nextMessage<M: WireMessage>(
        _ bytes: [UInt8], _ offset: inout Int, _ path: String,
        as type: M.Type, arena: WireArena
    ) throws -> M {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else {
                throw StoreError(.corrupt, "\(path): truncated length at byte \(offset)")
            }
            let byte = bytes[offset]
            offset += 1
            length |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard length <= UInt64(bytes.count - offset) else {
            throw StoreError(.corrupt, "\(path): truncated message at byte \(offset)")
        }
        let end = offset + Int(length)
        defer { offset = end }
        do {
            return try bytes[offset..<end].withUnsafeBytes { try M(decoding: $0, arena: arena) }
        } catch {
            throw StoreError(.corrupt, "\(path): \(M.protoName) at byte \(offset) does not decode: \(error)")
        }
    }
}

extension SQLiteStore {
    /// Writes a consistent snapshot of the store in `directory` to the export file `file`.
    ///
    /// When no server holds the directory, the export takes its lock (opening the store may migrate
    /// its schema, a write); beside a running server it reads the database read-only, in one read
    /// transaction, and writes nothing there.
    /// - Returns: the revision exported.
    public static func export(
        directory: String, to file: String, now: Timestamp,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> Revision {
        guard exists(in: directory) else { throw StoreError(.cannotOpen, "no Portico database in \(directory)") }
        let changes: [Change]
        do {
            let held = try DataDirectory(path: directory, create: false)
            let store = try SQLiteStore(path: held.file(fileName), ownedLock: held)
            do {
                changes = try await store.load()
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        } catch let error as StoreError where error.code == .locked {
            changes = try readOnlyLog(at: (directory as NSString).appendingPathComponent(fileName))
        }
        try ExportFile.write(changes, to: file, now: now, progress: progress)
        return changes.last?.revision ?? 0
    }

    /// Restores the export file `file` into `directory`, which must hold no database yet. The changes
    /// are replayed first, so a file that does not rebuild a valid state is refused, and written under a
    /// temporary name that becomes the database only when complete.
    /// - Returns: the revision restored.
    public static func importing(
        _ file: String, into directory: String,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> Revision {
        let held = try DataDirectory(path: directory)
        defer { held.release() }
        guard !exists(in: directory) else {
            throw StoreError(.notEmpty, "\(directory) already holds a database: import needs an empty data directory")
        }
        let changes = try ExportFile.read(from: file, progress: progress)
        _ = try await Portico.open(store: InMemoryChangeStore(changes))
        let final = held.file(fileName)
        let partial = final + ".importing"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
        let store = try SQLiteStore(path: partial)
        do {
            try await store.append(changes)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        // A clean close has checkpointed the WAL into the file and removed it; move it along if not.
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: partial + suffix) {
            try FileManager.default.moveItem(atPath: partial + suffix, toPath: final + suffix)
        }
        try FileManager.default.moveItem(atPath: partial, toPath: final)
        return changes.last?.revision ?? 0
    }
}
