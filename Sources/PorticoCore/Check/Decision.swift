/// Why a check allowed or denied.
public enum DecisionReason: UInt8, CaseIterable, Hashable, Sendable {
    // Allowing.
    case adminRole
    case assigned
    case sharedAdminRole
    case sharedAssigned
    // Denying, in the order the check tries them.
    case tokenNotFound
    case tokenRevoked
    case tokenExpired
    case principalNotFound
    case principalRemoved
    case portfolioDisabled
    case assetNotFound
    case ownerDisabled
    case taskNotValidForAsset
    case scopeMissing
    case notShared
    case taskNotShared
    case notAssigned
    case taskNotGranted

    /// The stable wire and scenario spelling, e.g. `ADMIN_ROLE`.
    public var name: String {
        switch self {
        case .adminRole: "ADMIN_ROLE"
        case .assigned: "ASSIGNED"
        case .sharedAdminRole: "SHARED_ADMIN_ROLE"
        case .sharedAssigned: "SHARED_ASSIGNED"
        case .tokenNotFound: "TOKEN_NOT_FOUND"
        case .tokenRevoked: "TOKEN_REVOKED"
        case .tokenExpired: "TOKEN_EXPIRED"
        case .principalNotFound: "PRINCIPAL_NOT_FOUND"
        case .principalRemoved: "PRINCIPAL_REMOVED"
        case .portfolioDisabled: "PORTFOLIO_DISABLED"
        case .assetNotFound: "ASSET_NOT_FOUND"
        case .ownerDisabled: "OWNER_DISABLED"
        case .taskNotValidForAsset: "TASK_NOT_VALID_FOR_ASSET"
        case .scopeMissing: "SCOPE_MISSING"
        case .notShared: "NOT_SHARED"
        case .taskNotShared: "TASK_NOT_SHARED"
        case .notAssigned: "NOT_ASSIGNED"
        case .taskNotGranted: "TASK_NOT_GRANTED"
        }
    }

    /// Whether this reason allows.
    @inlinable
    public var allows: Bool { rawValue <= DecisionReason.sharedAssigned.rawValue }
}

/// The answer to a check: small and trivially copyable, so the hot path allocates nothing.
public struct Decision: Hashable, Sendable {
    public let reason: DecisionReason
    /// The revision of the snapshot the check read.
    public let revision: Revision

    @inlinable
    public init(_ reason: DecisionReason, revision: Revision) {
        self.reason = reason
        self.revision = revision
    }

    @inlinable
    public var allowed: Bool { reason.allows }
}

/// A decision with the path that led to it (explain mode).
public struct Explanation: Hashable, Sendable {
    public let decision: Decision
    /// Each rule consulted, in order: role, assignment, share, token scope; the last one decided.
    public let steps: [String]
}

/// One question of a batch check.
public struct CheckRequest: Hashable, Sendable {
    public enum Subject: Hashable, Sendable {
        case principal(PrincipalID)
        case token(TokenID)
    }

    public let subject: Subject
    public let asset: AssetID
    public let task: AssetTask

    public init(_ subject: Subject, asset: AssetID, task: AssetTask) {
        self.subject = subject
        self.asset = asset
        self.task = task
    }
}
