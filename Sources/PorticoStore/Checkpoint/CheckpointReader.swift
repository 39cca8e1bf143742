import Crypto
import Foundation
import PorticoCore
import PorticoWire

/// Reads a checkpoint `CheckpointWriter` wrote, refusing it whole when any byte is wrong.
///
/// The file is mapped, not copied. First the length prefixes alone lead to the trailer and the hash of
/// everything before it is checked; only then are the records decoded into a `StateRestorer`.
enum CheckpointReader {
    /// What went wrong with a checkpoint file, in words for the log.
    struct Damaged: Error, CustomStringConvertible {
        let description: String
    }

    /// The state in the checkpoint at `path`.
    /// - Parameter progress: called every 100,000 records with done and total.
    /// - Throws: `Damaged` for a torn, truncated or corrupted file; `StoreError` when it cannot be read.
    static func read(_ path: String, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> AccessState
    {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw StoreError(.cannotOpen, "cannot read \(path): \(error.localizedDescription)")
        }
        return try data.withUnsafeBytes { bytes in try read(bytes, progress: progress) }
    }

    static func read(_ bytes: UnsafeRawBufferPointer, progress: (_ done: Int, _ total: Int) -> Void) throws
        -> AccessState
    {
        let arena = WireArena()
        var offset = 0
        let header = try message(bytes, &offset, as: CheckpointHeader.self, arena: arena)
        guard header.format == CheckpointWriter.format else { throw Damaged(description: "not a Portico checkpoint") }
        guard CheckpointWriter.readableVersions.contains(header.formatVersion) else {
            throw Damaged(
                description: "checkpoint format \(header.formatVersion); this portico reads "
                    + "\(CheckpointWriter.readableVersions)")
        }
        let recordsStart = offset
        for _ in 0..<header.recordCount { _ = try frame(bytes, &offset) }
        let trailerStart = offset
        let trailer = try message(bytes, &offset, as: CheckpointTrailer.self, arena: arena)
        guard offset == bytes.count else {
            throw Damaged(description: "\(bytes.count - offset) bytes after the trailer")
        }
        let digest = Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: bytes[0..<trailerStart])))
        guard trailer.recordCount == header.recordCount, trailer.sha256 == digest else {
            throw Damaged(description: "its SHA-256 does not match its content")
        }

        var restorer = StateRestorer(revision: header.revision, nextID: header.nextID)
        offset = recordsStart
        let total = Int(header.recordCount)
        for index in 0..<total {
            let record = try message(bytes, &offset, as: CheckpointRecord.self, arena: arena)
            guard let content = record.record else { throw Damaged(description: "an empty record") }
            do {
                try restore(content, into: &restorer)
            } catch let error as Damaged {
                throw error
            } catch {
                throw Damaged(description: "record \(index): \(error)")
            }
            if (index + 1) % 100_000 == 0 { progress(index + 1, total) }
        }
        progress(total, total)
        do {
            return try restorer.finish()
        } catch {
            throw Damaged(description: "\(error)")
        }
    }

    // swift-format-ignore
    private static func restore(_ record: CheckpointRecord.Record, into r: inout StateRestorer) throws {
        typealias E = StoredEnums
        switch record {
        case .portfolio(let p):
            try r.addPortfolio(id: PortfolioID(p.id), createdRevision: p.createdRevision, name: p.name,
                               status: try E.core(p.status), tier: try E.core(p.tier), appCount: Int(p.appCount),
                               adminSystemUsers: Int(p.adminSystemUsers), regularSystemUsers: Int(p.regularSystemUsers),
                               externalID: E.optional(p.externalID))
        case .asset(let a):
            guard a.partners.count == a.tasks.count else { throw Damaged(description: "asset \(a.id): shares and tasks differ") }
            try r.addAsset(id: AssetID(a.id), owner: PortfolioID(a.owner), type: try E.core(a.type), name: a.name,
                           shares: try zip(a.partners, a.tasks).map { (PortfolioID($0), try E.tasks($1)) },
                           externalID: E.optional(a.externalID))
        case .principal(let p):
            guard p.assets.count == p.tasks.count else { throw Damaged(description: "principal \(p.id): assets and tasks differ") }
            guard p.expiresAtUnixMillis.isEmpty || p.expiresAtUnixMillis.count == p.assets.count else {
                throw Damaged(description: "principal \(p.id): assets and expiries differ")
            }
            let expiries = p.expiresAtUnixMillis.isEmpty ? [Int64](repeating: 0, count: p.assets.count) : p.expiresAtUnixMillis
            var grants: [(AssetID, TaskSet, Timestamp?)] = []
            grants.reserveCapacity(p.assets.count)
            for index in p.assets.indices {
                grants.append((AssetID(p.assets[index]), try E.tasks(p.tasks[index]),
                               expiries[index] == 0 ? nil : Timestamp(milliseconds: expiries[index])))
            }
            try r.addPrincipal(id: PrincipalID(p.id), portfolio: PortfolioID(p.portfolio), kind: try E.core(p.kind),
                               role: try E.core(p.role), name: p.name, removed: p.removed, grants: grants,
                               externalID: E.optional(p.externalID))
        case .app(let a):
            try r.addApp(id: AppID(a.id), portfolio: PortfolioID(a.portfolio), name: a.name,
                         secretDigest: try E.digest(a.secretDigest), externalID: E.optional(a.externalID))
        case .token(let t):
            try r.addToken(id: TokenID(t.id), principal: PrincipalID(t.principal), portfolio: PortfolioID(t.portfolio),
                           app: AppID(t.app), scopes: try E.scopes(t.scopes),
                           createdAt: Timestamp(milliseconds: t.createdAtUnixMillis),
                           expiresAt: t.expires ? Timestamp(milliseconds: t.expiresAtUnixMillis) : nil,
                           revoked: t.revoked, secretDigest: try E.digest(t.secretDigest))
        case .credential(let c):
            try r.addCredential(id: CredentialID(c.id), name: c.name, createdAt: Timestamp(milliseconds: c.createdAtUnixMillis),
                                revoked: c.revoked, secretDigest: try E.digest(c.secretDigest))
        case .partnership(let p):
            r.addPartnership(portfolio: PortfolioID(p.portfolio), partner: PortfolioID(p.partner),
                             createdRevision: p.createdRevision)
        case .shareRequest(let s):
            try r.addShareRequest(id: ShareRequestID(s.id), asset: AssetID(s.asset), requester: PortfolioID(s.requester),
                                  tasks: try E.tasks(s.tasks), status: try E.core(s.status))
        case .audit(let a):
            try r.addAuditChunk(first: a.firstRevision, events: a.events, ends: a.ends)
        case .idempotencyKey(let k):
            guard let digest = IdempotencyDigest(bytes: k.keyDigest), let fingerprint = IdempotencyDigest(bytes: k.fingerprint)
            else { throw Damaged(description: "an idempotency key whose digests are not 16 bytes") }
            try r.addIdempotencyKey(digest, IdempotencyTable.Entry(
                revision: k.revision, fingerprint: fingerprint, createdID: k.createdID,
                time: Timestamp(milliseconds: k.timeUnixMillis), sealedSecret: k.sealedSecret.isEmpty ? nil : k.sealedSecret))
        }
    }

    /// The next length-delimited message's bytes; `offset` moves past it.
    private static func frame(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) throws -> UnsafeRawBufferPointer {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { throw Damaged(description: "truncated at byte \(offset)") }
            let byte = bytes[offset]
            offset += 1
            length |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard length <= UInt64(bytes.count - offset) else { throw Damaged(description: "truncated at byte \(offset)") }
        defer { offset += Int(length) }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)])
    }

    private static func message<M: WireMessage>(
        _ bytes: UnsafeRawBufferPointer, _ offset: inout Int, as type: M.Type,
        arena: WireArena
    ) throws -> M {
        let at = offset
        let body = try frame(bytes, &offset)
        defer { arena.reset() }
        do {
            return try M(decoding: body, arena: arena)
        } catch {
            throw Damaged(description: "\(M.protoName) at byte \(at) does not decode: \(error)")
        }
    }
}
