import HashTreeCollections

/// Checks and lookups on behalf of a caller: "who may call what" first, then the answer.
extension AccessSnapshot {
    /// Checks `principal` for `caller`.
    /// - Throws: UNAUTHENTICATED for an unusable credential, PERMISSION_DENIED when the caller may not
    ///   ask about this principal.
    public func check(as caller: Caller, principal: PrincipalID, asset: AssetID, task: AssetTask,
                      now: Timestamp) throws -> Decision {
        try state.authorize(state.readView(of: caller, now: now), subject: principal)
        return check(principal: principal, asset: asset, task: task)
    }

    /// Checks a token for `caller`.
    public func check(as caller: Caller, token: TokenID, asset: AssetID, task: AssetTask,
                      now: Timestamp) throws -> Decision {
        try state.authorize(state.readView(of: caller, now: now), token: token)
        return check(token: token, asset: asset, task: task, now: now)
    }

    /// Explains a principal check for `caller`.
    public func explain(as caller: Caller, principal: PrincipalID, asset: AssetID, task: AssetTask,
                        now: Timestamp) throws -> Explanation {
        try state.authorize(state.readView(of: caller, now: now), subject: principal)
        return explain(principal: principal, asset: asset, task: task)
    }

    /// Explains a token check for `caller`.
    public func explain(as caller: Caller, token: TokenID, asset: AssetID, task: AssetTask,
                        now: Timestamp) throws -> Explanation {
        try state.authorize(state.readView(of: caller, now: now), token: token)
        return explain(token: token, asset: asset, task: task, now: now)
    }

    /// A batch for `caller`: all answered at this snapshot's revision, or none if any subject is off-limits.
    public func check(as caller: Caller, batch requests: [CheckRequest], now: Timestamp) throws -> [Decision] {
        let view = try state.readView(of: caller, now: now)
        for request in requests {
            switch request.subject {
            case .principal(let principal): try state.authorize(view, subject: principal)
            case .token(let token): try state.authorize(view, token: token)
            }
        }
        return check(batch: requests, now: now)
    }

    /// The assets `principal` can work on, for `caller`.
    public func assets(as caller: Caller, of principal: PrincipalID, task: AssetTask? = nil,
                       page: PageRequest = PageRequest(), now: Timestamp) throws -> Page<AssetAccess> {
        try state.authorize(state.readView(of: caller, now: now), subject: principal)
        return try assets(of: principal, task: task, page: page)
    }

    /// The principals with access to `asset`, for `caller` (the owner's admins, services, the operator).
    public func principals(as caller: Caller, on asset: AssetID, task: AssetTask? = nil,
                           page: PageRequest = PageRequest(), now: Timestamp) throws -> Page<PrincipalAccess> {
        let view = try state.readView(of: caller, now: now)
        guard let record = state.assets[asset] else { throw PorticoError.notFound("asset \(asset)") }
        try state.authorize(view, assetReaders: record)
        return try principals(on: asset, task: task, page: page)
    }

    /// The partnerships of `portfolio`, for its admins, services and the operator.
    public func partners(as caller: Caller, of portfolio: PortfolioID, page: PageRequest = PageRequest(),
                         now: Timestamp) throws -> Page<PartnershipRecord> {
        let view = try state.readView(of: caller, now: now)
        _ = try state.portfolioRecord(portfolio)
        try state.authorize(view, portfolio: portfolio)
        return try partners(of: portfolio, page: page)
    }

    /// Audit events after `revision` for `caller`: every portfolio's (`portfolio` nil) or one's for the
    /// operator and services; its own portfolio's for an admin (an admin system user with
    /// business_management, or an ADMIN person a service acts for), who must name it.
    /// - Throws: NOT_FOUND for an unknown portfolio; PERMISSION_DENIED for anyone else, or an admin
    ///   asking for every portfolio or another one.
    public func auditEvents(as caller: Caller, after revision: Revision, portfolio: PortfolioID? = nil,
                            limit: Int = 100, now: Timestamp) throws -> Page<AuditEvent> {
        let view = try state.readView(of: caller, now: now)
        if let portfolio {
            _ = try state.portfolioRecord(portfolio)
            try state.authorize(view, portfolio: portfolio)
        } else if view != .everything {
            throw PorticoError.denied("only the operator and services read every portfolio's audit events")
        }
        return try auditEvents(after: revision, portfolio: portfolio, limit: limit)
    }
}
