import HashTreeCollections

/// Expiring assignments: a check stops honouring one at its time by itself (`Grant.isLive(at:)`); the
/// sweep then removes it from the state, as a change of its own in the log and the audit log.
extension AccessState {
    /// Keeps `expiring` in step with a grant of `principal` on `asset` that becomes `grant` (nil: goes).
    mutating func noteExpiry(_ principal: PrincipalID, _ asset: AssetID, _ grant: Grant?, was old: Grant?) {
        guard grant?.expiry != nil || old?.expiry != nil, let portfolio = principals[principal]?.portfolio else {
            return
        }
        let pair = CheckIndex.Pair(principal.rawValue, asset.rawValue)
        if let expiry = grant?.expiry {
            expiring[portfolio, default: [:]][pair] = expiry
        } else {
            expiring[portfolio]?[pair] = nil
            if expiring[portfolio]?.isEmpty == true { expiring[portfolio] = nil }
        }
    }

    /// The assignments of `portfolio`'s principals that have expired at `now`, by principal then asset.
    public func expiredAssignments(in portfolio: PortfolioID, at now: Timestamp)
        -> [(principal: PrincipalID, asset: AssetID)]
    {
        (expiring[portfolio] ?? [:]).compactMap { pair, expiry in
            expiry <= now ? (PrincipalID(pair.first), AssetID(pair.second)) : nil
        }.sorted { ($0.principal, $0.asset) < ($1.principal, $1.asset) }
    }

    /// The portfolios with an assignment that has expired at `now`: what the sweeper sweeps.
    public func portfoliosWithExpiredAssignments(at now: Timestamp) -> [PortfolioID] {
        expiring.compactMap { portfolio, pairs in pairs.values.contains { $0 <= now } ? portfolio : nil }.sorted()
    }

    /// Removes every assignment of `portfolio`'s principals that has expired by the change's time
    /// (operator only: the server's sweeper makes this change as the operator).
    mutating func expireAssignments(in portfolio: PortfolioID, _ context: inout ApplyContext) throws {
        try requireOperator(context.caller)
        _ = try portfolioRecord(portfolio)
        for (principalID, assetID) in expiredAssignments(in: portfolio, at: context.now) {
            guard var principal = principals[principalID], let grant = principal.grants[assetID] else { continue }
            noteExpiry(principalID, assetID, nil, was: grant)
            principal.grants[assetID] = nil
            principals[principalID] = principal
            checkIndex.setAssignments(principalID, principal.grants)
            assignees.remove(principalID, from: assetID)
            context.note("expired principal:\(principalID) asset:\(assetID) at \(grant.expiresAt.iso8601)")
        }
        context.setTarget(.portfolio, portfolio.rawValue, in: portfolio, "portfolio:\(portfolio)")
    }
}
