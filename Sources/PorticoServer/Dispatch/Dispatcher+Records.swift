import HashTreeCollections
import PorticoCore
import PorticoReasons
import PorticoWire

/// Domain records as wire messages, and the small conversions every RPC shares.
extension Dispatcher {
    static func missing(_ what: String) -> CallFailure {
        CallFailure(.notFound, "\(what) does not exist", reason: .notFound, metaCode: 100)
    }

    static func portfolio(_ id: UInt64, _ snapshot: AccessSnapshot) throws -> Portfolio {
        guard let record = snapshot.state.portfolios[PortfolioID(id)] else { throw Self.missing("portfolio \(id)") }
        return Self.portfolio(record)
    }

    static func portfolio(_ record: PortfolioRecord) -> Portfolio {
        Portfolio(
            id: record.id.rawValue,
            name: record.name,
            status: WireMapping.wire(record.status),
            systemUserTier: WireMapping.wire(record.tier),
            createdRevision: record.createdRevision,
            externalID: record.externalID ?? ""
        )
    }

    static func person(_ id: UInt64, _ snapshot: AccessSnapshot) throws -> Person {
        guard let record = snapshot.state.principals[PrincipalID(id)], record.kind == .person, !record.removed else {
            throw Self.missing("person \(id)")
        }
        return Self.person(record)
    }

    static func person(_ record: PrincipalRecord) -> Person {
        Person(
            id: record.id.rawValue, portfolioID: record.portfolio.rawValue, name: record.name,
            role: WireMapping.wire(record.role), externalID: record.externalID ?? "")
    }

    static func systemUser(_ id: UInt64, _ snapshot: AccessSnapshot) throws -> SystemUser {
        guard let record = snapshot.state.principals[PrincipalID(id)], record.kind == .systemUser, !record.removed
        else {
            throw Self.missing("system user \(id)")
        }
        return Self.systemUser(record)
    }

    static func systemUser(_ record: PrincipalRecord) -> SystemUser {
        SystemUser(
            id: record.id.rawValue, portfolioID: record.portfolio.rawValue, name: record.name,
            role: WireMapping.wire(record.role), externalID: record.externalID ?? "")
    }

    static func app(_ id: UInt64, _ snapshot: AccessSnapshot) throws -> App {
        guard let record = snapshot.state.apps[AppID(id)] else { throw Self.missing("app \(id)") }
        return Self.app(record)
    }

    static func app(_ record: AppRecord) -> App {
        App(
            id: record.id.rawValue, portfolioID: record.portfolio.rawValue, name: record.name,
            externalID: record.externalID ?? "")
    }

    static func asset(_ id: UInt64, _ snapshot: AccessSnapshot) throws -> Asset {
        guard let record = snapshot.state.assets[AssetID(id)] else { throw Self.missing("asset \(id)") }
        return Self.asset(record)
    }

    static func asset(_ record: AssetRecord) -> Asset {
        Asset(
            id: record.id.rawValue, ownerPortfolioID: record.owner.rawValue, type: WireMapping.wire(record.type),
            name: record.name, externalID: record.externalID ?? "")
    }

    static func credential(_ id: UInt64, _ snapshot: AccessSnapshot) throws -> PorticoWire.ServiceCredential {
        guard let record = snapshot.state.credentials[CredentialID(id)] else {
            throw Self.missing("service credential \(id)")
        }
        return Self.credential(record)
    }

    static func credential(_ record: CredentialRecord) -> PorticoWire.ServiceCredential {
        PorticoWire.ServiceCredential(
            id: record.id.rawValue,
            name: record.name,
            createdAtUnixMicros: record.createdAt.milliseconds * 1000,
            revoked: record.revoked
        )
    }

    /// A principal's assignment on an asset, or nil when it has none.
    static func assignment(_ principal: PrincipalID, _ asset: AssetID, _ snapshot: AccessSnapshot) -> Assignment? {
        guard let record = snapshot.state.principals[principal], let grant = record.grants[asset] else { return nil }
        return Self.assignment(record, asset, grant)
    }

    static func assignment(_ record: PrincipalRecord, _ asset: AssetID, _ grant: Grant) -> Assignment {
        Assignment(
            principal: Self.wirePrincipal(record),
            assetID: asset.rawValue,
            tasks: WireMapping.wire(grant.granted),
            effectiveTasks: WireMapping.wire(grant.effective),
            expiresAtUnixMicros: (grant.expiry?.milliseconds ?? 0) * 1000
        )
    }

    static func share(_ asset: AssetID, _ partner: PortfolioID, _ snapshot: AccessSnapshot) throws -> Share {
        guard let record = snapshot.state.assets[asset], let grant = record.shares[partner] else {
            throw Self.missing("share of asset \(asset) with portfolio \(partner)")
        }
        return Share(
            assetID: asset.rawValue,
            ownerPortfolioID: record.owner.rawValue,
            partnerPortfolioID: partner.rawValue,
            tasks: WireMapping.wire(grant.granted)
        )
    }

    static func partner(_ record: PartnershipRecord) -> Partner {
        Partner(
            portfolioID: record.portfolio.rawValue, partnerPortfolioID: record.partner.rawValue,
            createdRevision: record.createdRevision)
    }

    /// A share request as `caller` sees it (a requester is not told the owner before it shares).
    static func shareRequest(_ id: UInt64, _ snapshot: AccessSnapshot, for caller: Caller, now: Timestamp) throws
        -> PorticoWire.ShareRequest
    {
        Self.shareRequest(try snapshot.shareRequest(ShareRequestID(id), as: caller, now: now))
    }

    static func shareRequest(_ visible: VisibleShareRequest) -> PorticoWire.ShareRequest {
        Self.shareRequest(visible.request, owner: visible.owner)
    }

    static func shareRequest(_ record: ShareRequestRecord, owner: PortfolioID?) -> PorticoWire.ShareRequest {
        let state: ShareRequestState =
            switch record.status {
            case .pending: .pending
            case .approved: .approved
            case .declined: .declined
            }
        return PorticoWire.ShareRequest(
            id: record.id.rawValue,
            assetID: record.asset.rawValue,
            ownerPortfolioID: owner?.rawValue ?? 0,
            requestingPortfolioID: record.requester.rawValue,
            tasks: WireMapping.wire(record.tasks),
            state: state
        )
    }

    static func tokenInfo(_ id: TokenID, _ snapshot: AccessSnapshot, now: Timestamp) throws -> TokenInfo {
        guard let record = snapshot.state.tokens[id] else { throw Self.missing("token \(id)") }
        return Self.tokenInfo(record, now: now)
    }

    static func tokenInfo(_ record: TokenRecord, now: Timestamp) -> TokenInfo {
        let state: TokenState =
            if record.revoked { .revoked } else if let expiry = record.expiresAt, expiry <= now { .expired } else {
                .active
            }
        return TokenInfo(
            id: record.id.rawValue,
            portfolioID: record.portfolio.rawValue,
            systemUserID: record.principal.rawValue,
            appID: record.app.rawValue,
            scopes: WireMapping.wire(record.scopes),
            expiry: record.expiresAt == nil ? .never : .sixtyDays,
            createdAtUnixMicros: record.createdAt.milliseconds * 1000,
            expiresAtUnixMicros: (record.expiresAt?.milliseconds ?? 0) * 1000,
            state: state
        )
    }

    /// An audit event; `state` names the system user behind a token actor (tokens are never deleted).
    static func auditEvent(_ event: PorticoCore.AuditEvent, _ state: AccessState) -> PorticoWire.AuditEvent {
        let actor: Actor =
            switch event.caller {
            case .operator: Actor(kind: .operator)
            case .service(let id, let person):
                Actor(kind: .service, id: id.rawValue, onBehalfOfPersonID: person?.rawValue ?? 0)
            case .systemUser(let token):
                Actor(
                    kind: .systemUserToken, id: token.rawValue,
                    systemUserID: state.tokens[token]?.principal.rawValue ?? 0)
            }
        let summary = ([event.target] + event.effects).filter { !$0.isEmpty }.joined(separator: "; ")
        return PorticoWire.AuditEvent(
            revision: event.revision,
            timeUnixMicros: event.time.milliseconds * 1000,
            actor: actor,
            operation: event.operation,
            targetKind: WireMapping.wire(event.targetKind),
            targetID: event.targetID,
            portfolioID: event.portfolio?.rawValue ?? 0,
            summary: summary
        )
    }

    // MARK: principals

    static func wirePrincipal(_ record: PrincipalRecord) -> Principal {
        Principal(kind: record.kind == .person ? .person : .systemUser, id: record.id.rawValue)
    }

    static func principal(_ id: PrincipalID, _ snapshot: AccessSnapshot) -> Principal {
        snapshot.state.principals[id].map(Self.wirePrincipal) ?? Principal(kind: .unspecified, id: id.rawValue)
    }

    /// A principal as a request names it: its id and the kind the caller says it is.
    static func principal(_ wire: Principal?, field: String = "principal") throws -> (PrincipalID, PrincipalKindTag) {
        guard let wire, wire.kind != .unspecified, wire.id != 0 else {
            throw CallFailure.invalid("a principal (kind and id) is required", field: field)
        }
        return (PrincipalID(wire.id), wire.kind == .person ? .person : .systemUser)
    }

    // MARK: pages and names

    /// A page request from a page size (0: 100, above 1000: 1000) and a page token.
    static func page(_ size: UInt32, _ token: String) throws -> PageRequest {
        let limit = size == 0 ? 100 : min(Int(size), PageRequest.maximumLimit)
        return PageRequest(after: token.isEmpty ? nil : try Self.after(token), limit: limit)
    }

    static func after(_ token: String) throws -> UInt64 {
        guard let after = UInt64(token) else {
            throw CallFailure.invalid("the page token is not valid", field: "page_token")
        }
        return after
    }

    static func token(_ next: UInt64?) -> String { next.map(String.init) ?? "" }

    /// The token of the page after `page`, "" when it is the last.
    static func token<Item>(_ page: Page<Item>) -> String { Self.token(page.nextPageToken) }
}
