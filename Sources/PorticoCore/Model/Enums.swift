/// Whether a portfolio may be used (see docs/model.md for what RESTRICTED blocks).
public enum PortfolioStatus: String, CaseIterable, Hashable, Sendable, Codable {
    case active = "ACTIVE"
    case restricted = "RESTRICTED"
    case disabled = "DISABLED"
}

/// How many system users a portfolio may have.
public enum SystemUserTier: String, CaseIterable, Hashable, Sendable, Codable {
    case none = "NONE"
    case standard = "STANDARD"
    case advanced = "ADVANCED"

    /// Regular (EMPLOYEE) system users allowed; there is never more than one admin system user.
    public var regularLimit: Int {
        switch self {
        case .none: 0
        case .standard: 1
        case .advanced: 10
        }
    }

    /// Admin system users allowed.
    public var adminLimit: Int { self == .none ? 0 : 1 }
}

/// The role of a person or system user inside its portfolio.
public enum Role: String, CaseIterable, Hashable, Sendable, Codable {
    case admin = "ADMIN"
    case employee = "EMPLOYEE"
}

/// Whether a principal is a person or a system user.
public enum PrincipalKindTag: String, Hashable, Sendable, Codable {
    case person = "PERSON"
    case systemUser = "SYSTEM_USER"
}

/// How long a token lives.
public enum TokenExpiry: String, CaseIterable, Hashable, Sendable, Codable {
    case never = "NEVER"
    case sixtyDays = "SIXTY_DAYS"

    static let sixtyDaysInMilliseconds: Int64 = 60 * 24 * 60 * 60 * 1000
}

/// The life of a share request.
public enum ShareRequestStatus: String, Hashable, Sendable, Codable {
    case pending = "PENDING"
    case approved = "APPROVED"
    case declined = "DECLINED"
}
