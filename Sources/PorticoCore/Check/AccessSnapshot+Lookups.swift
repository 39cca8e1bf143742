import HashTreeCollections

/// The reverse questions: which assets, which principals, what changed. Each answers what the check
/// would at the same `now`: an asset is listed for a task exactly when the check allows that task (an
/// expired assignment grants nothing here either).
extension AccessSnapshot {
    /// The assets `principal` can work on (optionally: can perform `task` on) at `now`, sorted by id.
    public func assets(
        of principalID: PrincipalID, task: AssetTask? = nil, page: PageRequest = PageRequest(),
        now: Timestamp
    ) throws -> Page<AssetAccess> {
        try page.validate()
        var items: [AssetAccess] = []
        guard let principal = state.principals[principalID], !principal.removed,
            state.portfolios[principal.portfolio]?.status != .disabled
        else { return page.cut(items, key: \.asset.rawValue) }
        let home = principal.portfolio
        func consider(_ asset: AssetRecord, _ tasks: TaskSet) {
            guard !tasks.isEmpty, task.map(tasks.contains) ?? true else { return }
            if asset.owner != home, state.portfolios[asset.owner]?.status == .disabled { return }
            items.append(AssetAccess(asset: asset.id, type: asset.type, tasks: tasks))
        }
        if principal.role == .admin {
            for id in state.ownedAssets[home] ?? [] {
                if let asset = state.assets[id] { consider(asset, TaskLattice.validTasks(for: asset.type)) }
            }
            for id in state.sharedIn[home] ?? [] {
                if let asset = state.assets[id], let share = asset.shares[home] { consider(asset, share.effective) }
            }
        } else {
            for (id, grant) in principal.grants where grant.isLive(at: now) {
                guard let asset = state.assets[id] else { continue }
                if asset.owner == home {
                    consider(asset, grant.effective)
                } else if let share = asset.shares[home] {
                    consider(asset, grant.effective.intersection(share.effective))
                }
            }
        }
        return page.cut(items, key: \.asset.rawValue)
    }

    /// The principals who can work on `asset` (optionally: perform `task`) at `now`, with their effective tasks.
    /// - Throws: NOT_FOUND when the asset does not exist.
    public func principals(
        on assetID: AssetID, task: AssetTask? = nil, page: PageRequest = PageRequest(),
        now: Timestamp
    ) throws -> Page<PrincipalAccess> {
        try page.validate()
        guard let asset = state.assets[assetID] else { throw PorticoError.notFound("asset \(assetID)") }
        var items: [PrincipalAccess] = []
        func collect(_ portfolio: PortfolioID, within limit: TaskSet) {
            guard state.portfolios[portfolio]?.status != .disabled else { return }
            for id in state.members[portfolio] ?? [] {
                guard let principal = state.principals[id] else { continue }
                let live = principal.grants[assetID].flatMap { $0.isLive(at: now) ? $0.effective : nil }
                let held = principal.role == .admin ? limit : (live ?? [])
                let tasks = held.intersection(limit)
                guard !tasks.isEmpty, task.map(tasks.contains) ?? true else { continue }
                items.append(PrincipalAccess(principal: id, portfolio: portfolio, tasks: tasks))
            }
        }
        collect(asset.owner, within: TaskLattice.validTasks(for: asset.type))
        if state.portfolios[asset.owner]?.status != .disabled {
            for (partner, share) in asset.shares { collect(partner, within: share.effective) }
        }
        return page.cut(items, key: \.principal.rawValue)
    }

    /// The partnerships of `portfolio`: those it made and those made with it, ordered by the other
    /// portfolio's id, the one `portfolio` made first when the two added each other.
    ///
    /// The page token is `other id << 1 | direction` (0: `portfolio` made it), unique per record, so
    /// pages stay stable when both directions exist.
    /// - Throws: NOT_FOUND when the portfolio does not exist.
    public func partners(of portfolio: PortfolioID, page: PageRequest = PageRequest()) throws -> Page<PartnershipRecord>
    {
        try page.validate()
        _ = try state.portfolioRecord(portfolio)
        var items = (state.partnerships[portfolio] ?? [:]).values.map { $0 }
        for adder in state.partneredBy[portfolio] ?? [] {
            if let record = state.partnerships[adder]?[portfolio] { items.append(record) }
        }
        return page.cut(items) { record in
            record.other(than: portfolio).rawValue << 1 | (record.portfolio == portfolio ? 0 : 1)
        }
    }

    /// How many revisions one page of audit events reads at most: with a portfolio filter the events of
    /// one portfolio may be far apart, and a page must stay short work (the server answers it on an event
    /// loop). A page that stops here is short, possibly empty, and still has a next page token.
    static let auditScanLimit = 10_000

    /// Audit events after `revision`, oldest first, of `portfolio` only when given; the page token is the
    /// last revision read, so the next page goes on from there.
    public func auditEvents(after revision: Revision, portfolio: PortfolioID? = nil, limit: Int = 100) throws
        -> Page<AuditEvent>
    {
        try auditEvents(after: revision, portfolio: portfolio, limit: limit, scanLimit: Self.auditScanLimit)
    }

    func auditEvents(after revision: Revision, portfolio: PortfolioID?, limit: Int, scanLimit: Int) throws
        -> Page<AuditEvent>
    {
        try PageRequest(limit: limit).validate()
        // `after` comes from the caller (a revision or a page token): at or past the newest revision there
        // is nothing to read, and `revision + 1` would overflow at the largest one.
        guard revision < state.revision else { return Page(items: [], nextPageToken: nil) }
        var items: [AuditEvent] = []
        var next = revision + 1
        var scanned = 0
        while next <= state.revision, items.count < limit, scanned < scanLimit {
            if let event = state.audit[next], portfolio == nil || event.portfolio == portfolio { items.append(event) }
            next += 1
            scanned += 1
        }
        return Page(items: items, nextPageToken: next <= state.revision ? next - 1 : nil)
    }
}
