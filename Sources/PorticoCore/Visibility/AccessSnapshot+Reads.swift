import HashTreeCollections

/// The gets and lists of entities, for a caller, by the rules of `Visibility`. Permission comes before
/// existence: a caller who may not see an entity is refused (PERMISSION_DENIED) whether it exists or not,
/// and told NOT_FOUND only when it could see it if it existed (docs/model.md, "What an outsider learns").
extension AccessSnapshot {
    /// A portfolio: for those who see all of it, and for its own members.
    public func portfolio(_ id: PortfolioID, as caller: Caller, now: Timestamp) throws -> PortfolioRecord {
        let visibility = try state.visibility(of: caller, now: now)
        let member = visibility.principal.map { state.principals[$0]?.portfolio == id } ?? false
        try Self.require(visibility.covers(portfolio: id) || member, "portfolio \(id)")
        return try state.portfolioRecord(id)
    }

    /// Every portfolio: for the operator and services.
    public func portfolios(as caller: Caller, page: PageRequest, now: Timestamp) throws -> Page<PortfolioRecord> {
        try Self.require(try state.visibility(of: caller, now: now) == .everything, "the list of portfolios")
        try page.validate()
        return page.cut(Array(state.portfolios.values), key: \.id.rawValue)
    }

    /// Every service credential: for the operator alone (services are issued them, not shown them).
    public func serviceCredentials(as caller: Caller, page: PageRequest) throws -> Page<CredentialRecord> {
        try Self.require(caller == .operator, "service credentials")
        try page.validate()
        return page.cut(Array(state.credentials.values), key: \.id.rawValue)
    }

    /// A person: for those who see its portfolio, and for itself.
    /// - Throws: INVALID_ARGUMENT (`WRONG_PRINCIPAL_KIND`) for a system user; NOT_FOUND for a removed person.
    public func person(_ id: PrincipalID, as caller: Caller, now: Timestamp) throws -> PrincipalRecord {
        let record = try self.visiblePrincipal(id, as: caller, now: now, "person \(id)")
        try state.requireKind(id, .person)
        return record
    }

    /// The principals of one kind of a portfolio (removed ones are not members), for those who see it all.
    public func members(
        of portfolio: PortfolioID, kind: PrincipalKindTag, as caller: Caller, page: PageRequest,
        now: Timestamp
    ) throws -> Page<PrincipalRecord> {
        try self.requirePortfolio(portfolio, as: caller, now: now)
        try page.validate()
        let members = (state.members[portfolio] ?? []).compactMap { state.principals[$0] }.filter { $0.kind == kind }
        return page.cut(members, key: \.id.rawValue)
    }

    /// The apps of a portfolio, for those who see it all.
    public func apps(
        of portfolio: PortfolioID, as caller: Caller, page: PageRequest,
        now: Timestamp
    ) throws -> Page<AppRecord> {
        try self.requirePortfolio(portfolio, as: caller, now: now)
        try page.validate()
        return page.cut(state.apps.values.filter { $0.portfolio == portfolio }, key: \.id.rawValue)
    }

    /// An asset: for its owner's and partners' admins, those assigned on it, the operator and services.
    public func asset(_ id: AssetID, as caller: Caller, now: Timestamp) throws -> AssetRecord {
        try self.visibleAsset(id, as: caller, now: now)
    }

    /// The assets a portfolio owns (of one type, when given), for those who see it all.
    public func assets(
        ownedBy portfolio: PortfolioID, type: AssetType?, as caller: Caller, page: PageRequest,
        now: Timestamp
    ) throws -> Page<AssetRecord> {
        try self.requirePortfolio(portfolio, as: caller, now: now)
        try page.validate()
        let owned = (state.ownedAssets[portfolio] ?? []).compactMap { state.assets[$0] }
        return page.cut(owned.filter { type == nil || $0.type == type }, key: \.id.rawValue)
    }

    /// A principal's assignments, keyed by asset, for those who see the principal.
    /// - Throws: INVALID_ARGUMENT (`WRONG_PRINCIPAL_KIND`) for a principal of the other kind; NOT_FOUND for
    ///   a removed one.
    public func assignments(
        of principal: PrincipalID, kind: PrincipalKindTag?, as caller: Caller, page: PageRequest,
        now: Timestamp
    ) throws -> (PrincipalRecord, Page<AssetID>) {
        let record = try self.visiblePrincipal(
            principal, as: caller, now: now, "the assignments of principal \(principal)")
        try state.requireKind(principal, kind)
        try page.validate()
        let live = record.grants.compactMap { asset, grant in grant.isLive(at: now) ? asset : nil }
        return (record, page.cut(live, key: \.rawValue))
    }

    /// The principals assigned on an asset, those the caller sees, for those who see the asset.
    public func assignments(
        on asset: AssetID, as caller: Caller, page: PageRequest,
        now: Timestamp
    ) throws -> Page<PrincipalRecord> {
        let visibility = try state.visibility(of: caller, now: now)
        _ = try self.visibleAsset(asset, as: caller, now: now)
        try page.validate()
        let visible = (state.assignees[asset] ?? []).compactMap { state.principals[$0] }.filter {
            visibility.covers(principal: $0.id, of: $0.portfolio) && $0.grants[asset]?.isLive(at: now) == true
        }
        return page.cut(visible, key: \.id.rawValue)
    }

    /// Every share a portfolio granted or received, ordered by asset then partner, for those who see it all.
    public func shares(of portfolio: PortfolioID, as caller: Caller, now: Timestamp) throws
        -> [(asset: AssetRecord, partner: PortfolioID, grant: Grant)]
    {
        try self.requirePortfolio(portfolio, as: caller, now: now)
        var found: [(asset: AssetRecord, partner: PortfolioID, grant: Grant)] = []
        for id in state.ownedAssets[portfolio] ?? [] {
            guard let asset = state.assets[id] else { continue }
            for (partner, grant) in asset.shares { found.append((asset, partner, grant)) }
        }
        for id in state.sharedIn[portfolio] ?? [] {
            if let asset = state.assets[id], let grant = asset.shares[portfolio] {
                found.append((asset, portfolio, grant))
            }
        }
        return found.sorted { ($0.asset.id, $0.partner) < ($1.asset.id, $1.partner) }
    }

    /// The share requests a portfolio made or received (of one status, when given), for those who see it
    /// all, each with the owner of its asset as the caller may know it (`owner(of:for:)`).
    public func shareRequests(
        of portfolio: PortfolioID, status: ShareRequestStatus?, as caller: Caller,
        page: PageRequest, now: Timestamp
    ) throws
        -> Page<VisibleShareRequest>
    {
        let visibility = try state.visibility(of: caller, now: now)
        try self.requirePortfolio(portfolio, as: caller, now: now)
        try page.validate()
        let matching = state.shareRequests.values.filter { record in
            (record.requester == portfolio || state.assets[record.asset]?.owner == portfolio)
                && (status == nil || record.status == status)
        }
        return page.cut(
            matching.map { VisibleShareRequest($0, owner: self.owner(of: $0, for: visibility)) },
            key: \.request.id.rawValue)
    }

    /// A share request as `caller` sees it once a change of it was answered (requested, approved, declined).
    public func shareRequest(_ id: ShareRequestID, as caller: Caller, now: Timestamp) throws -> VisibleShareRequest {
        let visibility = try state.visibility(of: caller, now: now)
        guard let record = state.shareRequests[id] else { throw PorticoError.notFound("share request \(id)") }
        return VisibleShareRequest(record, owner: self.owner(of: record, for: visibility))
    }

    /// The tokens of a system user, for those who see it.
    /// - Throws: INVALID_ARGUMENT (`WRONG_PRINCIPAL_KIND`) for a person.
    public func tokens(
        of systemUser: PrincipalID, as caller: Caller, page: PageRequest,
        now: Timestamp
    ) throws -> Page<TokenRecord> {
        let visibility = try state.visibility(of: caller, now: now)
        guard let record = state.principals[systemUser] else {
            try Self.require(visibility == .everything, "the tokens of system user \(systemUser)")
            throw PorticoError.notFound("system user \(systemUser)")
        }
        try Self.require(
            visibility.covers(principal: systemUser, of: record.portfolio),
            "the tokens of system user \(systemUser)")
        try state.requireKind(systemUser, .systemUser)
        try page.validate()
        return page.cut((state.principalTokens[systemUser] ?? []).compactMap { state.tokens[$0] }, key: \.id.rawValue)
    }

    /// The token a presented secret names, if the caller sees its system user; nil for a secret that
    /// names no token and for a token the caller may not see alike, so a secret found elsewhere cannot be
    /// tested here for whether it is real.
    public func inspect(presentedSecret secret: String, as caller: Caller, now: Timestamp) throws -> TokenRecord? {
        let visibility = try state.visibility(of: caller, now: now)
        guard let id = token(presentedSecret: secret), let record = state.tokens[id],
            visibility.covers(principal: record.principal, of: record.portfolio)
        else { return nil }
        return record
    }

    // MARK: the rules

    /// The owner of a request's asset, as the caller may know it: a requester is not told who owns an
    /// asset before the owner shares it; the owner's admins, the operator and services always are.
    func owner(of record: ShareRequestRecord, for visibility: Visibility) -> PortfolioID? {
        guard let owner = state.assets[record.asset]?.owner else { return nil }
        return record.status == .approved || visibility.covers(portfolio: owner) ? owner : nil
    }

    /// Fails unless the caller sees all of `portfolio`; NOT_FOUND, to those who could, when it does not exist.
    private func requirePortfolio(_ id: PortfolioID, as caller: Caller, now: Timestamp) throws {
        try Self.require(try state.visibility(of: caller, now: now).covers(portfolio: id), "portfolio \(id)")
        _ = try state.portfolioRecord(id)
    }

    /// A principal the caller sees (itself, or of a portfolio it sees all of); NOT_FOUND for a removed one.
    private func visiblePrincipal(_ id: PrincipalID, as caller: Caller, now: Timestamp, _ what: String) throws
        -> PrincipalRecord
    {
        let visibility = try state.visibility(of: caller, now: now)
        guard let record = state.principals[id] else {
            try Self.require(visibility == .everything, what)
            throw PorticoError.notFound("principal \(id)")
        }
        try Self.require(visibility.covers(principal: id, of: record.portfolio), what)
        guard !record.removed else { throw PorticoError.notFound("principal \(id)") }
        return record
    }

    private func visibleAsset(_ id: AssetID, as caller: Caller, now: Timestamp) throws -> AssetRecord {
        let visibility = try state.visibility(of: caller, now: now)
        guard let record = state.assets[id] else {
            try Self.require(visibility == .everything, "asset \(id)")
            throw PorticoError.notFound("asset \(id)")
        }
        try Self.require(visibility.covers(record, in: state, now: now), "asset \(id)")
        return record
    }

    static func require(_ allowed: Bool, _ what: String) throws {
        guard allowed else { throw PorticoError.denied("this caller may not read \(what)") }
    }
}

/// A share request with the owner of its asset as one caller may know it (nil: not told).
public struct VisibleShareRequest: Hashable, Sendable {
    public let request: ShareRequestRecord
    public let owner: PortfolioID?

    init(_ request: ShareRequestRecord, owner: PortfolioID?) {
        self.request = request
        self.owner = owner
    }
}
