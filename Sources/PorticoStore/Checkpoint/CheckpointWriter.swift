import Crypto
import HashTreeCollections
import NIOCore
import PorticoCore
import PorticoWire

/// Writes the whole state at one revision as a checkpoint (proto/portico/v1/storage.proto): a header,
/// every record, the audit log's chunks, then a trailer with the SHA-256 of all that came before.
///
/// The state is an immutable value, so the writer runs beside the server: checks and writes go on
/// while it encodes. Bytes go to the file a megabyte at a time, hashed on the way.
struct CheckpointWriter {
    static let format = "portico.checkpoint"
    /// 2 adds external ids, assignment expiries and idempotency keys; the reader takes 1 and 2.
    static let formatVersion: UInt32 = 2
    static let readableVersions: ClosedRange<UInt32> = 1...2
    /// Bytes buffered before a write to the file.
    static let flushBytes = 1 << 20

    private let fd: Int32
    private let path: String
    private let arena = WireArena()
    private var buffer = ByteBufferAllocator().buffer(capacity: flushBytes + 64 * 1024)
    private var body = ByteBufferAllocator().buffer(capacity: 64 * 1024)
    private var hasher = SHA256()
    private(set) var bytesWritten = 0
    private var records: UInt64 = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Writes `state` whole. - Returns: the file's size in bytes.
    static func write(_ state: AccessState, to fd: Int32, path: String, now: Timestamp) throws -> Int {
        var writer = CheckpointWriter(fd: fd, path: path)
        try writer.append(
            CheckpointHeader(
                format: format, formatVersion: formatVersion, revision: state.revision,
                nextID: state.nextID, writtenAtUnixMillis: now.milliseconds,
                recordCount: recordCount(state)))
        try writer.appendRecords(state)
        try writer.finish()
        return writer.bytesWritten
    }

    /// How many records `appendRecords` writes, for the header.
    static func recordCount(_ state: AccessState) -> UInt64 {
        let partnerships = state.partnerships.values.reduce(0) { $0 + $1.count }
        var chunks = 0
        state.audit.forEachChunk { _, _, _ in chunks += 1 }
        return UInt64(
            state.portfolios.count + state.assets.count + state.principals.count + state.apps.count
                + state.tokens.count + state.credentials.count + partnerships + state.shareRequests.count
                + state.idempotency.count + chunks)
    }

    // swift-format-ignore
    private mutating func appendRecords(_ state: AccessState) throws {
        typealias E = StoredEnums
        for (id, p) in state.portfolios {
            try record(.portfolio(.init(id: id.rawValue, createdRevision: p.createdRevision, name: p.name,
                                        status: E.wire(p.status), tier: E.wire(p.tier), appCount: UInt32(p.appCount),
                                        adminSystemUsers: UInt32(p.adminSystemUsers),
                                        regularSystemUsers: UInt32(p.regularSystemUsers), externalID: p.externalID ?? "")))
        }
        for (id, a) in state.assets {
            var partners: [UInt64] = [], tasks: [UInt32] = []
            for (partner, grant) in a.shares {
                partners.append(partner.rawValue)
                tasks.append(E.mask(grant.granted))
            }
            try record(.asset(.init(id: id.rawValue, owner: a.owner.rawValue, type: E.wire(a.type), name: a.name,
                                    partners: partners, tasks: tasks, externalID: a.externalID ?? "")))
        }
        var assets: [UInt64] = [], tasks: [UInt32] = [], expiries: [Int64] = []
        for (id, p) in state.principals {
            assets.removeAll(keepingCapacity: true)
            tasks.removeAll(keepingCapacity: true)
            expiries.removeAll(keepingCapacity: true)
            var expiring = false
            for (asset, grant) in p.grants {
                assets.append(asset.rawValue)
                tasks.append(E.mask(grant.granted))
                expiries.append(grant.expiry?.milliseconds ?? 0)
                expiring = expiring || grant.expiry != nil
            }
            // Expiries only when one of them is set: most principals pay nothing for the field.
            try record(.principal(.init(id: id.rawValue, portfolio: p.portfolio.rawValue, kind: E.wire(p.kind),
                                        role: E.wire(p.role), name: p.name, removed: p.removed, assets: assets,
                                        tasks: tasks, externalID: p.externalID ?? "",
                                        expiresAtUnixMillis: expiring ? expiries : [])))
        }
        for (id, a) in state.apps {
            try record(.app(.init(id: id.rawValue, portfolio: a.portfolio.rawValue, name: a.name,
                                  secretDigest: E.bytes(a.secretDigest), externalID: a.externalID ?? "")))
        }
        for (id, t) in state.tokens {
            try record(.token(.init(id: id.rawValue, principal: t.principal.rawValue, portfolio: t.portfolio.rawValue,
                                    app: t.app.rawValue, scopes: E.mask(t.scopes),
                                    createdAtUnixMillis: t.createdAt.milliseconds, expires: t.expiresAt != nil,
                                    expiresAtUnixMillis: t.expiresAt?.milliseconds ?? 0, revoked: t.revoked,
                                    secretDigest: E.bytes(t.secretDigest))))
        }
        for (id, c) in state.credentials {
            try record(.credential(.init(id: id.rawValue, name: c.name, createdAtUnixMillis: c.createdAt.milliseconds,
                                         revoked: c.revoked, secretDigest: E.bytes(c.secretDigest))))
        }
        for (_, partners) in state.partnerships {
            for (_, p) in partners {
                try record(.partnership(.init(portfolio: p.portfolio.rawValue, partner: p.partner.rawValue,
                                              createdRevision: p.createdRevision)))
            }
        }
        for (id, r) in state.shareRequests {
            try record(.shareRequest(.init(id: id.rawValue, asset: r.asset.rawValue, requester: r.requester.rawValue,
                                           tasks: E.mask(r.tasks), status: E.wire(r.status))))
        }
        for (digest, entry) in state.idempotency.all {
            try record(.idempotencyKey(.init(keyDigest: digest.bytes, revision: entry.revision,
                                             fingerprint: entry.fingerprint.bytes, createdID: entry.createdID,
                                             timeUnixMillis: entry.time.milliseconds,
                                             sealedSecret: entry.sealedSecret ?? [])))
        }
        try state.audit.forEachChunk { first, events, ends in
            try record(.audit(.init(firstRevision: first, events: events, ends: ends)))
        }
    }

    private mutating func record(_ record: CheckpointRecord.Record) throws {
        try append(CheckpointRecord(record: record))
        records += 1
    }

    /// Appends one message with its length prefix; writes the buffer out when it is full.
    private mutating func append(_ message: some WireMessage) throws {
        body.clear()
        try message.encode(into: &body, arena: arena)
        arena.reset()
        Self.writeVarint(UInt64(body.readableBytes), to: &buffer)
        buffer.writeBuffer(&body)
        if buffer.readableBytes >= Self.flushBytes { try flush() }
    }

    private mutating func flush() throws {
        let bytes = buffer.readableBytesView
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        try PrivateFile.writeAll(fd, Array(bytes), path: path)
        bytesWritten += bytes.count
        buffer.clear()
    }

    /// Writes what is buffered, then the trailer (not hashed: it holds the hash).
    private mutating func finish() throws {
        try flush()
        let trailer = CheckpointTrailer(recordCount: records, sha256: Array(hasher.finalize()))
        body.clear()
        try trailer.encode(into: &body, arena: arena)
        arena.reset()
        Self.writeVarint(UInt64(body.readableBytes), to: &buffer)
        buffer.writeBuffer(&body)
        let bytes = Array(buffer.readableBytesView)
        try PrivateFile.writeAll(fd, bytes, path: path)
        bytesWritten += bytes.count
        buffer.clear()
    }

    static func writeVarint(_ value: UInt64, to buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }
}
