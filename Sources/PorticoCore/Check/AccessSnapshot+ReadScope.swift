import HashTreeCollections

/// What a caller may read, for the server's get and list calls (docs/model.md, "Who may call what").
public enum ReadScope: Hashable, Sendable {
    /// The operator, or a service acting for itself: every portfolio.
    case everything
    /// An admin of `portfolio` (a person a service acts for, or an admin system user with
    /// business_management).
    case portfolioAdmin(PortfolioID, PrincipalID)
    /// Anyone else: what concerns this principal only.
    case own(PrincipalID)

    /// Whether the scope covers everything of `portfolio`.
    public func covers(portfolio: PortfolioID) -> Bool {
        switch self {
        case .everything: true
        case .portfolioAdmin(let mine, _): mine == portfolio
        case .own: false
        }
    }

    /// Whether the scope covers `principal`: itself, or its portfolio.
    public func covers(principal: PrincipalID, of portfolio: PortfolioID) -> Bool {
        switch self {
        case .everything: true
        case .portfolioAdmin(let mine, let me): mine == portfolio || me == principal
        case .own(let me): me == principal
        }
    }

    /// The principal behind the caller, if any.
    public var principal: PrincipalID? {
        switch self {
        case .everything: nil
        case .portfolioAdmin(_, let me), .own(let me): me
        }
    }
}

extension AccessSnapshot {
    /// What `caller` may read, after checking that its credential is usable at `now`.
    /// - Throws: UNAUTHENTICATED for an unusable credential, PERMISSION_DENIED for an unknown principal.
    public func readScope(of caller: Caller, now: Timestamp) throws -> ReadScope {
        switch try state.readView(of: caller, now: now) {
        case .everything: .everything
        case .portfolioAdmin(let portfolio, let me): .portfolioAdmin(portfolio, me)
        case .own(let me): .own(me)
        }
    }
}
