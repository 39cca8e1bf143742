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
    case assignmentExpired
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
        case .assignmentExpired: "ASSIGNMENT_EXPIRED"
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
    /// A rule of the check, as explain names it (the wire's `ExplainRule`).
    public enum Rule: UInt8, CaseIterable, Hashable, Sendable {
        /// The token exists, is not revoked and has not expired.
        case token
        /// The token's scopes cover the task on the asset's type.
        case tokenScope
        /// The principal exists and was not removed.
        case principal
        /// The principal's portfolio, or a partner asset's owner, is not DISABLED.
        case portfolioStatus
        /// The asset exists.
        case asset
        /// The task is one of the asset type's tasks.
        case taskValid
        /// The principal is an ADMIN of the owner, or of a partner the asset is shared with.
        case adminRole
        /// The principal's assignment on the asset grants the task.
        case assignment
        /// The asset is shared with the principal's portfolio, with the task.
        case share

        /// The stable wire spelling, e.g. `TOKEN_SCOPE`.
        public var name: String {
            switch self {
            case .token: "TOKEN"
            case .tokenScope: "TOKEN_SCOPE"
            case .principal: "PRINCIPAL"
            case .portfolioStatus: "PORTFOLIO_STATUS"
            case .asset: "ASSET"
            case .taskValid: "TASK_VALID"
            case .adminRole: "ADMIN_ROLE"
            case .assignment: "ASSIGNMENT"
            case .share: "SHARE"
            }
        }
    }

    /// One rule as the check evaluated it.
    public struct Step: Hashable, Sendable {
        public let rule: Rule
        /// Whether the rule held. A denial's last step is the rule that denied; an earlier step may
        /// fail without denying (an EMPLOYEE is not an ADMIN, and goes on to its assignment).
        public let passed: Bool
        /// What was found, e.g. `assignment {ADVERTISE} grants {ADVERTISE, DRAFT, ANALYZE}`.
        public let detail: String

        public init(_ rule: Rule, passed: Bool, _ detail: String) {
            self.rule = rule
            self.passed = passed
            self.detail = detail
        }
    }

    public let decision: Decision
    /// Each rule evaluated, in order; the last one decided.
    public let steps: [Step]
}

/// One question of a batch check.
public struct CheckRequest: Hashable, Sendable {
    public enum Subject: Hashable, Sendable {
        case principal(PrincipalID)
        case token(TokenID)
    }

    public let subject: Subject
    /// The kind the caller names a principal subject as, when it names one; a principal of the other
    /// kind is refused (INVALID_ARGUMENT, `WRONG_PRINCIPAL_KIND`).
    public let kind: PrincipalKindTag?
    public let asset: AssetID
    public let task: AssetTask

    public init(_ subject: Subject, kind: PrincipalKindTag? = nil, asset: AssetID, task: AssetTask) {
        self.subject = subject
        self.kind = kind
        self.asset = asset
        self.task = task
    }
}
