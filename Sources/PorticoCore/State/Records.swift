public import HashTreeCollections

/// A portfolio (business) and the counters its limits need.
public struct PortfolioRecord: Hashable, Sendable {
    public let id: PortfolioID
    /// The revision of the change that created it.
    public let createdRevision: Revision
    public var name: String
    public var status: PortfolioStatus
    public var tier: SystemUserTier
    public var appCount: Int
    public var adminSystemUsers: Int
    public var regularSystemUsers: Int
    /// The caller's own id for it, unique among portfolios; nil when none was given.
    public var externalID: String?
}

/// The tasks of one grant: what was asked for, and its closure, stored so a check never closes; and
/// for an assignment, until when it grants.
public struct Grant: Hashable, Sendable {
    public var granted: TaskSet
    public var effective: TaskSet
    /// From this time on the grant grants nothing (`Timestamp.never` for an assignment without expiry,
    /// and for every share). A principal's small assignment list keeps it out of its 16-byte entries, in
    /// a side array read only for the grants that expire (`AssignmentList`).
    public var expiresAt: Timestamp

    public init(granted: TaskSet, type: AssetType, expiresAt: Timestamp = .never) {
        self.granted = granted
        self.effective = TaskLattice.closure(of: granted, for: type)
        self.expiresAt = expiresAt
    }

    init(granted: TaskSet, effective: TaskSet, expiresAt: Timestamp = .never) {
        self.granted = granted
        self.effective = effective
        self.expiresAt = expiresAt
    }

    /// When it stops granting, or nil if it never does.
    public var expiry: Timestamp? { expiresAt == .never ? nil : expiresAt }

    /// Whether it still grants at `now`.
    @inlinable
    public func isLive(at now: Timestamp) -> Bool { now < expiresAt }
}

/// A person or system user, with its assignments keyed by asset (the check's second lookup).
public struct PrincipalRecord: Hashable, Sendable {
    public let id: PrincipalID
    public let portfolio: PortfolioID
    public let kind: PrincipalKindTag
    public var role: Role
    public var name: String
    /// Removed principals stay as tombstones so that a check can say PRINCIPAL_REMOVED.
    public var removed: Bool
    /// Shared with the check index (`CheckIndex.Principal.assignments`): one copy in memory.
    public internal(set) var grants: AssignmentList
    /// The caller's own id, unique among the portfolio's principals of its kind; a removed principal
    /// keeps it in its record, but frees it for another.
    public var externalID: String?
}

/// An asset, with the shares its owner granted keyed by partner portfolio.
public struct AssetRecord: Hashable, Sendable {
    public let id: AssetID
    public let owner: PortfolioID
    public let type: AssetType
    public var name: String
    /// Partner portfolio -> what the owner shared (granted and closure).
    public var shares: TreeDictionary<PortfolioID, Grant>
    /// The caller's own id, unique among the owner's assets.
    public var externalID: String?
}

/// An app owned by a portfolio; tokens are generated for one app.
public struct AppRecord: Hashable, Sendable {
    public let id: AppID
    public let portfolio: PortfolioID
    public var name: String
    public let secretDigest: SecretDigest
    /// The caller's own id, unique among the portfolio's apps.
    public var externalID: String?
}

/// A system-user token: only the digest of its secret is kept.
public struct TokenRecord: Hashable, Sendable {
    public let id: TokenID
    public let principal: PrincipalID
    public let portfolio: PortfolioID
    public let app: AppID
    public let scopes: ScopeSet
    public let coverage: ScopeCoverage
    /// When it was generated (the change's time).
    public let createdAt: Timestamp
    /// nil when the token never expires.
    public let expiresAt: Timestamp?
    public var revoked: Bool
    public let secretDigest: SecretDigest
}

/// A service credential issued by the operator.
public struct CredentialRecord: Hashable, Sendable {
    public let id: CredentialID
    public var name: String
    /// When it was issued (the change's time).
    public let createdAt: Timestamp
    public var revoked: Bool
    public let secretDigest: SecretDigest
}

/// A partnership: `portfolio` added `partner`, so that `portfolio` may share its assets with it.
///
/// Directional, as in Meta's Business Settings: the portfolio that adds a partner is the one that
/// shares. Two portfolios may each have added the other; those are two records.
public struct PartnershipRecord: Hashable, Sendable {
    /// The portfolio that added the partner (the one that may share).
    public let portfolio: PortfolioID
    public let partner: PortfolioID
    /// The revision of the change that made it (AddPartner, or the approval of a share request).
    public let createdRevision: Revision

    /// The portfolio of the pair that is not `side`.
    public func other(than side: PortfolioID) -> PortfolioID { side == portfolio ? partner : portfolio }
}

/// A portfolio's request that an asset's owner share it.
public struct ShareRequestRecord: Hashable, Sendable {
    public let id: ShareRequestID
    public let asset: AssetID
    public let requester: PortfolioID
    public let tasks: TaskSet
    public var status: ShareRequestStatus
}

/// One committed change as the audit log shows it. Everything in it derives from the stored `Change`
/// (replay rebuilds it), so the log format needs nothing more.
public struct AuditEvent: Hashable, Sendable {
    /// What a change acted on (the wire's `TargetKind`).
    public enum TargetKind: UInt8, CaseIterable, Hashable, Sendable {
        case portfolio
        case person
        case systemUser
        case app
        case asset
        /// Id: the principal's (the summary names the asset too).
        case assignment
        /// Id: the partner portfolio's (`portfolio` is the one that added or removed it).
        case partner
        /// Id: the asset's (the summary names the partner too).
        case share
        case shareRequest
        case token
        case serviceCredential

        /// The stable wire spelling, e.g. `SHARE_REQUEST`.
        public var name: String {
            switch self {
            case .portfolio: "PORTFOLIO"
            case .person: "PERSON"
            case .systemUser: "SYSTEM_USER"
            case .app: "APP"
            case .asset: "ASSET"
            case .assignment: "ASSIGNMENT"
            case .partner: "PARTNER"
            case .share: "SHARE"
            case .shareRequest: "SHARE_REQUEST"
            case .token: "TOKEN"
            case .serviceCredential: "SERVICE_CREDENTIAL"
            }
        }
    }

    public let revision: Revision
    public let time: Timestamp
    public let caller: Caller
    /// The command's name, e.g. `assign`.
    public let operation: String
    /// The portfolio the change belongs to: the one whose admin acts (the owner for a share or an
    /// approval, the requester for a request, the principal's for an assignment); nil for service
    /// credentials, which belong to none.
    public let portfolio: PortfolioID?
    public let targetKind: TargetKind
    /// The id of the target, of the kind `targetKind` says.
    public let targetID: UInt64
    /// What the change acted on as text, e.g. `asset:42` or `principal:7 asset:12`.
    public let target: String
    /// What the change did beyond its target (cascades), e.g. `revoked token:7`.
    public let effects: [String]
}
