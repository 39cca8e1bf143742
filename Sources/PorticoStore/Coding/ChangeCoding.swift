import NIOCore
public import PorticoCore
import PorticoWire

/// The core's `Change` as a `StoredChange` protobuf message, encoded and decoded by protobuf-c.
///
/// The same bytes go into the SQLite `changes` table (without revision and time, which the row's
/// columns hold), export files and checkpoints, so any store can read what another wrote.
public struct ChangeCoding {
    // One arena and one buffer, reused: a coder belongs to one thread at a time (not Sendable).
    private let arena = WireArena()
    private var buffer = ByteBufferAllocator().buffer(capacity: 256)

    public init() {}

    /// Encodes `change`; with `envelope` false, its revision and time are left out (a row holds them).
    public mutating func encode(_ change: Change, envelope: Bool) throws -> [UInt8] {
        defer { arena.reset() }
        buffer.clear()
        try Self.message(change, envelope: envelope).encode(into: &buffer, arena: arena)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Decodes a change; `revision` and `time`, when given, stand for the ones the bytes leave out.
    /// - Throws: `StoreError` `.corrupt` naming what does not decode.
    public func decode(_ bytes: UnsafeRawBufferPointer, revision: Revision? = nil, time: Timestamp? = nil) throws
        -> Change
    {
        defer { arena.reset() }
        do {
            let message = try StoredChange(decoding: bytes, arena: arena)
            return try Self.change(message, revision: revision, time: time)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "a stored change does not decode: \(error)")
        }
    }

    static func message(_ change: Change, envelope: Bool) -> StoredChange {
        var message = StoredChange(
            secretDigests: change.secretDigests.map(StoredEnums.bytes), command: command(change.command))
        if let record = change.idempotency {
            message.idempotency = IdempotencyRecord(
                keyDigest: record.keyDigest.bytes,
                sealedSecret: record.sealedSecret ?? [])
        }
        if envelope {
            message.revision = change.revision
            message.timeUnixMillis = change.time.milliseconds
        }
        switch change.caller {
        case .operator:
            message.caller = .operator
        case .service(let credential, let person):
            message.caller = .service
            message.callerID = credential.rawValue
            message.onBehalfOf = person?.rawValue ?? 0
        case .systemUser(let token):
            message.caller = .token
            message.callerID = token.rawValue
        }
        return message
    }

    static func change(_ message: StoredChange, revision: Revision?, time: Timestamp?) throws -> Change {
        let caller: Caller
        switch message.caller {
        case .operator: caller = .operator
        case .service:
            caller = .service(
                CredentialID(message.callerID),
                onBehalfOf: message.onBehalfOf == 0 ? nil : PrincipalID(message.onBehalfOf))
        case .token: caller = .systemUser(TokenID(message.callerID))
        }
        guard let stored = message.command else { throw StoreError(.corrupt, "a stored change has no command") }
        var idempotency: PorticoCore.IdempotencyRecord?
        if let record = message.idempotency {
            guard let digest = IdempotencyDigest(bytes: record.keyDigest) else {
                throw StoreError(.corrupt, "an idempotency key digest of \(record.keyDigest.count) bytes, not 16")
            }
            idempotency = PorticoCore.IdempotencyRecord(
                keyDigest: digest, sealedSecret: record.sealedSecret.isEmpty ? nil : record.sealedSecret)
        }
        return Change(
            revision: revision ?? message.revision,
            time: time ?? Timestamp(milliseconds: message.timeUnixMillis),
            caller: caller, command: try command(stored),
            secretDigests: try message.secretDigests.map(StoredEnums.digest), idempotency: idempotency)
    }

    // swift-format-ignore
    static func command(_ command: Command) -> StoredChange.Command {
        typealias E = StoredEnums
        switch command {
        case .createPortfolio(let name, let tier, let x): return .createPortfolio(.init(name: name, tier: E.wire(tier), externalID: x ?? ""))
        case .setPortfolioStatus(let id, let status): return .setPortfolioStatus(.init(portfolio: id.rawValue, status: E.wire(status)))
        case .setSystemUserTier(let id, let tier): return .setSystemUserTier(.init(portfolio: id.rawValue, tier: E.wire(tier)))
        case .issueServiceCredential(let name): return .issueServiceCredential(.init(name: name))
        case .revokeServiceCredential(let id): return .revokeServiceCredential(.init(id: id.rawValue))
        case .addPerson(let id, let name, let role, let x): return .addPerson(.init(portfolio: id.rawValue, name: name, role: E.wire(role), externalID: x ?? ""))
        case .setRole(let id, let role): return .setRole(.init(principal: id.rawValue, role: E.wire(role)))
        case .removePrincipal(let id): return .removePrincipal(.init(id: id.rawValue))
        case .createApp(let id, let name, let x): return .createApp(.init(portfolio: id.rawValue, name: name, externalID: x ?? ""))
        case .addSystemUser(let id, let name, let role, let x): return .addSystemUser(.init(portfolio: id.rawValue, name: name, role: E.wire(role), externalID: x ?? ""))
        case .addAsset(let id, let type, let name, let x): return .addAsset(.init(portfolio: id.rawValue, type: E.wire(type), name: name, externalID: x ?? ""))
        case .removeAsset(let id): return .removeAsset(.init(id: id.rawValue))
        case .assign(let principal, let asset, let tasks, let expiry):
            return .assign(.init(first: principal.rawValue, second: asset.rawValue, tasks: E.mask(tasks), expiresAtUnixMillis: expiry?.milliseconds ?? 0))
        case .expireAssignments(let id): return .expireAssignments(.init(id: id.rawValue))
        case .setExternalID(let kind, let id, let x): return .setExternalID(.init(kind: E.wire(kind), id: id, externalID: x))
        case .unassign(let principal, let asset): return .unassign(.init(first: principal.rawValue, second: asset.rawValue))
        case .share(let asset, let partner, let tasks): return .share(.init(first: asset.rawValue, second: partner.rawValue, tasks: E.mask(tasks)))
        case .unshare(let asset, let partner): return .unshare(.init(first: asset.rawValue, second: partner.rawValue))
        case .addPartner(let id, let partner): return .addPartner(.init(first: id.rawValue, second: partner.rawValue))
        case .removePartner(let id, let partner): return .removePartner(.init(first: id.rawValue, second: partner.rawValue))
        case .requestShare(let asset, let by, let tasks): return .requestShare(.init(first: asset.rawValue, second: by.rawValue, tasks: E.mask(tasks)))
        case .approveShareRequest(let id): return .approveShareRequest(.init(id: id.rawValue))
        case .declineShareRequest(let id): return .declineShareRequest(.init(id: id.rawValue))
        case .generateToken(let principal, let app, let scopes, let expiry):
            return .generateToken(.init(principal: principal.rawValue, app: app.rawValue, scopes: E.mask(scopes), expiry: E.wire(expiry)))
        case .revokeToken(let id): return .revokeToken(.init(id: id.rawValue))
        case .revokeAllTokens(let id): return .revokeAllTokens(.init(id: id.rawValue))
        }
    }

    // swift-format-ignore
    static func command(_ stored: StoredChange.Command) throws -> Command {
        typealias E = StoredEnums
        switch stored {
        case .createPortfolio(let c): return .createPortfolio(name: c.name, tier: try E.core(c.tier), externalID: E.optional(c.externalID))
        case .setPortfolioStatus(let c): return .setPortfolioStatus(PortfolioID(c.portfolio), try E.core(c.status))
        case .setSystemUserTier(let c): return .setSystemUserTier(PortfolioID(c.portfolio), try E.core(c.tier))
        case .issueServiceCredential(let c): return .issueServiceCredential(name: c.name)
        case .revokeServiceCredential(let c): return .revokeServiceCredential(CredentialID(c.id))
        case .addPerson(let c): return .addPerson(PortfolioID(c.portfolio), name: c.name, role: try E.core(c.role), externalID: E.optional(c.externalID))
        case .setRole(let c): return .setRole(PrincipalID(c.principal), try E.core(c.role))
        case .removePrincipal(let c): return .removePrincipal(PrincipalID(c.id))
        case .createApp(let c): return .createApp(PortfolioID(c.portfolio), name: c.name, externalID: E.optional(c.externalID))
        case .addSystemUser(let c): return .addSystemUser(PortfolioID(c.portfolio), name: c.name, role: try E.core(c.role), externalID: E.optional(c.externalID))
        case .addAsset(let c): return .addAsset(PortfolioID(c.portfolio), type: try E.core(c.type), name: c.name, externalID: E.optional(c.externalID))
        case .removeAsset(let c): return .removeAsset(AssetID(c.id))
        case .assign(let c):
            return .assign(PrincipalID(c.first), AssetID(c.second), try E.tasks(c.tasks),
                           expiresAt: c.expiresAtUnixMillis == 0 ? nil : Timestamp(milliseconds: c.expiresAtUnixMillis))
        case .expireAssignments(let c): return .expireAssignments(PortfolioID(c.id))
        case .setExternalID(let c): return .setExternalID(try E.core(c.kind), c.id, c.externalID)
        case .unassign(let c): return .unassign(PrincipalID(c.first), AssetID(c.second))
        case .share(let c): return .share(AssetID(c.first), with: PortfolioID(c.second), try E.tasks(c.tasks))
        case .unshare(let c): return .unshare(AssetID(c.first), from: PortfolioID(c.second))
        case .addPartner(let c): return .addPartner(PortfolioID(c.first), partner: PortfolioID(c.second))
        case .removePartner(let c): return .removePartner(PortfolioID(c.first), partner: PortfolioID(c.second))
        case .requestShare(let c): return .requestShare(AssetID(c.first), by: PortfolioID(c.second), try E.tasks(c.tasks))
        case .approveShareRequest(let c): return .approveShareRequest(ShareRequestID(c.id))
        case .declineShareRequest(let c): return .declineShareRequest(ShareRequestID(c.id))
        case .generateToken(let c):
            return .generateToken(PrincipalID(c.principal), app: AppID(c.app), scopes: try E.scopes(c.scopes), expiry: try E.core(c.expiry))
        case .revokeToken(let c): return .revokeToken(TokenID(c.id))
        case .revokeAllTokens(let c): return .revokeAllTokens(PrincipalID(c.id))
        }
    }
}
