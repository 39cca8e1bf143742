import HashTreeCollections

/// What a caller may see: decided once per call from its credential (`AccessSnapshot.visibility(of:now:)`),
/// then asked about each portfolio, principal and asset a read names. Every read of the core, checks and
/// lookups, gets and lists, applies it, so every transport answers by the same rules ("Who may call
/// what" and "What an outsider learns" in docs/model.md).
public enum Visibility: Hashable, Sendable {
    /// The operator, or a service acting for itself: everything.
    case everything
    /// An admin of `portfolio` (a person a service acts for, or an admin system user with
    /// business_management), who is principal `me`: everything of its portfolio, and itself.
    case portfolioAdmin(PortfolioID, me: PrincipalID)
    /// Anyone else: what concerns principal `me` only.
    case own(PrincipalID)

    /// Whether the caller sees everything of `portfolio`.
    public func covers(portfolio: PortfolioID) -> Bool {
        switch self {
        case .everything: true
        case .portfolioAdmin(let mine, _): mine == portfolio
        case .own: false
        }
    }

    /// Whether the caller sees `principal` of `portfolio`: itself, or a member of a portfolio it covers.
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

    /// Whether the caller sees `asset`: its owner's or a partner's admin, or a holder of an assignment on
    /// it that has not expired at `now`.
    func covers(_ asset: AssetRecord, in state: AccessState, now: Timestamp) -> Bool {
        func holds(_ me: PrincipalID) -> Bool { state.principals[me]?.grants[asset.id]?.isLive(at: now) == true }
        switch self {
        case .everything:
            return true
        case .portfolioAdmin(let portfolio, let me):
            return asset.owner == portfolio || asset.shares[portfolio] != nil || holds(me)
        case .own(let me):
            return holds(me)
        }
    }
}

extension AccessSnapshot {
    /// What `caller` may see, after checking that its credential is usable at `now`.
    /// - Throws: UNAUTHENTICATED for an unusable credential, PERMISSION_DENIED for an unknown principal.
    public func visibility(of caller: Caller, now: Timestamp) throws -> Visibility {
        try state.visibility(of: caller, now: now)
    }
}
