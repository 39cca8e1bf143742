import HashTreeCollections

/// The check of docs/model.md ("The permission check"), written once and specialised for the plain check
/// (no trace) and explain.
extension AccessSnapshot {
    func evaluate<Trace: CheckTrace>(
        token id: TokenID, asset: AssetID, task: AssetTask, now: Timestamp,
        _ trace: inout Trace
    ) -> DecisionReason {
        guard let token = state.tokens[id] else {
            trace.step(.token, passed: false, "token \(id) does not exist")
            return .tokenNotFound
        }
        if token.revoked {
            trace.step(.token, passed: false, "token \(id) was revoked")
            return .tokenRevoked
        }
        if let expiry = token.expiresAt, now >= expiry {
            trace.step(.token, passed: false, "token \(id) expired at \(expiry.milliseconds)")
            return .tokenExpired
        }
        trace.step(
            .token, passed: true,
            "token \(id) of system user \(token.principal), scopes \(token.scopes.scopes.map(\.name))")
        return evaluate(
            principal: token.principal, asset: asset, task: task, coverage: token.coverage, now: now,
            &trace)
    }

    /// Reads only `state.checkIndex` (plain values, a dense table by id) on the way to the answer; the
    /// records are read for explain's text alone, inside autoclosures the plain check never runs.
    /// - Parameters:
    ///   - coverage: what the token's scopes cover, or nil for a check by principal.
    ///   - now: the time an expiring assignment is compared with.
    func evaluate<Trace: CheckTrace>(
        principal id: PrincipalID, asset assetID: AssetID, task: AssetTask,
        coverage: ScopeCoverage?, now: Timestamp, _ trace: inout Trace
    )
        -> DecisionReason
    {
        guard let principal = state.checkIndex.principal(id) else {
            trace.step(.principal, passed: false, "principal \(id) does not exist")
            return .principalNotFound
        }
        guard !principal.removed else {
            trace.step(.principal, passed: false, "principal \(id) was removed")
            return .principalRemoved
        }
        let home = principal.portfolio
        trace.step(
            .principal, passed: true,
            "principal \(id): \(principal.kind.rawValue) \(principal.role.rawValue) of portfolio \(home)")
        guard let status = state.checkIndex.status(home), status != .disabled else {
            trace.step(.portfolioStatus, passed: false, "portfolio \(home) of principal \(id) is DISABLED")
            return .portfolioDisabled
        }
        trace.step(.portfolioStatus, passed: true, "portfolio \(home) is \(status.rawValue)")
        guard let asset = state.checkIndex.asset(assetID) else {
            trace.step(.asset, passed: false, "asset \(assetID) does not exist")
            return .assetNotFound
        }
        trace.step(.asset, passed: true, "asset \(assetID): \(asset.type.name) owned by portfolio \(asset.owner)")
        if asset.owner != home {
            let status = state.checkIndex.status(asset.owner)
            if status == .disabled {
                trace.step(.portfolioStatus, passed: false, "owner portfolio \(asset.owner) is DISABLED")
                return .ownerDisabled
            }
            trace.step(
                .portfolioStatus, passed: true,
                "owner portfolio \(asset.owner) is \(status?.rawValue ?? PortfolioStatus.active.rawValue)")
        }
        guard TaskLattice.validTasks(for: asset.type).contains(task) else {
            trace.step(.taskValid, passed: false, "\(task.name) is not a task of \(asset.type.name)")
            return .taskNotValidForAsset
        }
        trace.step(.taskValid, passed: true, "\(task.name) is a task of \(asset.type.name)")
        if let coverage {
            guard coverage[asset.type].contains(task) else {
                trace.step(.tokenScope, passed: false, "no token scope covers \(task.name) on \(asset.type.name)")
                return .scopeMissing
            }
            trace.step(.tokenScope, passed: true, "token scopes cover \(task.name) on \(asset.type.name)")
        }
        if asset.owner == home {
            if principal.role == .admin {
                trace.step(.adminRole, passed: true, "ADMIN of the owner portfolio")
                return .adminRole
            }
            trace.step(.adminRole, passed: false, "\(principal.role.rawValue), not an ADMIN: needs an assignment")
            return assignment(principal, id, assetID, task, now: now, allow: .assigned, &trace)
        }
        guard let share = state.checkIndex.share(assetID, with: home) else {
            trace.step(.share, passed: false, "asset \(assetID) is not shared with portfolio \(home)")
            return .notShared
        }
        guard share.contains(task) else {
            trace.step(.share, passed: false, "share with portfolio \(home) permits \(share), not \(task.name)")
            return .taskNotShared
        }
        trace.step(.share, passed: true, "share with portfolio \(home) permits \(share)")
        if principal.role == .admin {
            trace.step(.adminRole, passed: true, "ADMIN of the partner portfolio")
            return .sharedAdminRole
        }
        trace.step(.adminRole, passed: false, "\(principal.role.rawValue), not an ADMIN: needs an assignment")
        return assignment(principal, id, assetID, task, now: now, allow: .sharedAssigned, &trace)
    }

    private func assignment<Trace: CheckTrace>(
        _ facts: CheckIndex.Principal, _ principal: PrincipalID,
        _ asset: AssetID, _ task: AssetTask, now: Timestamp,
        allow: DecisionReason, _ trace: inout Trace
    ) -> DecisionReason {
        guard let grant = facts.assignments[asset] else {
            trace.step(.assignment, passed: false, "principal \(principal) has no assignment on asset \(asset)")
            return .notAssigned
        }
        // One compare with a word the entry already brought into the cache (never: Int64.max).
        guard grant.isLive(at: now) else {
            trace.step(
                .assignment, passed: false,
                "assignment \(grant.granted) expired at \(grant.expiresAt.iso8601)")
            return .assignmentExpired
        }
        guard grant.effective.contains(task) else {
            trace.step(
                .assignment, passed: false,
                "assignment \(grant.granted) grants \(grant.effective)\(Self.until(grant)), not \(task.name)")
            return .taskNotGranted
        }
        trace.step(
            .assignment, passed: true, "assignment \(grant.granted) grants \(grant.effective)\(Self.until(grant))")
        return allow
    }

    /// " until <time>" for an expiring grant, for explanations.
    private static func until(_ grant: Grant) -> String {
        grant.expiry.map { " until \($0.iso8601)" } ?? ""
    }
}
