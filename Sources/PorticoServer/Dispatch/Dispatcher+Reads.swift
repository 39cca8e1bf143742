import HashTreeCollections
import PorticoCore
import PorticoWire

/// Gets and lists of entities: answered on the event loop from the current snapshot, within what
/// the caller may read (`ReadScope`).
extension Dispatcher {
    /// The snapshot a read answers from, its state, and what the caller may read in it.
    private func readView(_ context: CallContext) throws -> (AccessSnapshot, AccessState, ReadScope) {
        let snapshot = self.portico.snapshot
        return (snapshot, snapshot.state, try snapshot.readScope(of: context.caller, now: self.portico.clock.now()))
    }

    func getPortfolio(_ request: GetPortfolioRequest, context: inout CallContext) throws -> GetPortfolioResponse {
        let (_, state, scope) = try self.readView(context)
        let id = PortfolioID(request.portfolioID)
        guard let record = state.portfolios[id] else { throw Self.missing("portfolio \(id)") }
        let member = scope.principal.map { state.principals[$0]?.portfolio == id } ?? false
        try Self.require(scope.covers(portfolio: id) || member, "portfolio \(id)")
        return GetPortfolioResponse(portfolio: Self.portfolio(record))
    }

    func listPortfolios(_ request: ListPortfoliosRequest, context: inout CallContext) throws -> ListPortfoliosResponse {
        let (_, state, scope) = try self.readView(context)
        try Self.require(scope == .everything, "the list of portfolios")
        let page = try Self.page(request.pageSize, request.pageToken)
        let (items, next) = Self.cut(state.portfolios.keys.map(\.rawValue), page)
        return ListPortfoliosResponse(
            portfolios: items.compactMap { state.portfolios[PortfolioID($0)].map(Self.portfolio) },
            nextPageToken: Self.token(next)
        )
    }

    func listServiceCredentials(_ request: ListServiceCredentialsRequest, context: inout CallContext) throws
        -> ListServiceCredentialsResponse
    {
        let (_, state, _) = try self.readView(context)
        try Self.require(context.caller == .operator, "service credentials")
        let (items, next) = Self.cut(state.credentials.keys.map(\.rawValue), try Self.page(request.pageSize, request.pageToken))
        return ListServiceCredentialsResponse(
            credentials: items.compactMap { state.credentials[CredentialID($0)].map(Self.credential) },
            nextPageToken: Self.token(next)
        )
    }

    func getPerson(_ request: GetPersonRequest, context: inout CallContext) throws -> GetPersonResponse {
        let (snapshot, _, scope) = try self.readView(context)
        let person = try Self.person(request.personID, snapshot)
        try Self.require(scope.covers(principal: PrincipalID(person.id), of: PortfolioID(person.portfolioID)), "person \(person.id)")
        return GetPersonResponse(person: person)
    }

    func listPeople(_ request: ListPeopleRequest, context: inout CallContext) throws -> ListPeopleResponse {
        let (_, state, scope) = try self.readView(context)
        let members = try Self.members(request.portfolioID, .person, scope, state)
        let (items, next) = Self.cut(members, try Self.page(request.pageSize, request.pageToken))
        return ListPeopleResponse(
            people: items.compactMap { state.principals[PrincipalID($0)].map(Self.person) },
            nextPageToken: Self.token(next)
        )
    }

    func listSystemUsers(_ request: ListSystemUsersRequest, context: inout CallContext) throws
        -> ListSystemUsersResponse
    {
        let (_, state, scope) = try self.readView(context)
        let members = try Self.members(request.portfolioID, .systemUser, scope, state)
        let (items, next) = Self.cut(members, try Self.page(request.pageSize, request.pageToken))
        return ListSystemUsersResponse(
            systemUsers: items.compactMap { state.principals[PrincipalID($0)].map(Self.systemUser) },
            nextPageToken: Self.token(next)
        )
    }

    func listApps(_ request: ListAppsRequest, context: inout CallContext) throws -> ListAppsResponse {
        let (_, state, scope) = try self.readView(context)
        let portfolio = try Self.portfolioInScope(request.portfolioID, scope, state)
        let apps = state.apps.values.filter { $0.portfolio == portfolio }.map(\.id.rawValue)
        let (items, next) = Self.cut(apps, try Self.page(request.pageSize, request.pageToken))
        return ListAppsResponse(apps: items.compactMap { state.apps[AppID($0)].map(Self.app) }, nextPageToken: Self.token(next))
    }

    func getAsset(_ request: GetAssetRequest, context: inout CallContext) throws -> GetAssetResponse {
        let (_, state, scope) = try self.readView(context)
        let id = AssetID(request.assetID)
        guard let asset = state.assets[id] else { throw Self.missing("asset \(id)") }
        try Self.require(Self.canSee(asset, scope, state), "asset \(id)")
        return GetAssetResponse(asset: Self.asset(asset))
    }

    func listAssets(_ request: ListAssetsRequest, context: inout CallContext) throws -> ListAssetsResponse {
        let (_, state, scope) = try self.readView(context)
        let portfolio = try Self.portfolioInScope(request.portfolioID, scope, state)
        let type = WireMapping.optionalAssetType(request.type)
        let owned = (state.ownedAssets[portfolio] ?? []).filter { type == nil || state.assets[$0]?.type == type }
        let (items, next) = Self.cut(owned.map(\.rawValue), try Self.page(request.pageSize, request.pageToken))
        return ListAssetsResponse(assets: items.compactMap { state.assets[AssetID($0)].map(Self.asset) }, nextPageToken: Self.token(next))
    }

    func listAssignmentsByPrincipal(_ request: ListAssignmentsByPrincipalRequest, context: inout CallContext) throws
        -> ListAssignmentsByPrincipalResponse
    {
        let (_, state, scope) = try self.readView(context)
        let (principal, kind) = try Self.principal(request.principal)
        guard let record = state.principals[principal], !record.removed else { throw Self.missing("principal \(principal)") }
        try Self.require(scope.covers(principal: principal, of: record.portfolio), "the assignments of principal \(principal)")
        guard record.kind == kind else { throw CallFailure.wrongKind(principal, record.kind, kind) }
        let (items, next) = Self.cut(record.grants.keys.map(\.rawValue), try Self.page(request.pageSize, request.pageToken))
        return ListAssignmentsByPrincipalResponse(
            assignments: items.compactMap { id in record.grants[AssetID(id)].map { Self.assignment(record, AssetID(id), $0) } },
            nextPageToken: Self.token(next)
        )
    }

    func listAssignmentsByAsset(_ request: ListAssignmentsByAssetRequest, context: inout CallContext) throws
        -> ListAssignmentsByAssetResponse
    {
        let (_, state, scope) = try self.readView(context)
        let asset = AssetID(request.assetID)
        guard let record = state.assets[asset] else { throw Self.missing("asset \(asset)") }
        try Self.require(Self.canSee(record, scope, state), "asset \(asset)")
        let visible = (state.assignees[asset] ?? []).filter { id in
            state.principals[id].map { scope.covers(principal: id, of: $0.portfolio) } ?? false
        }
        let (items, next) = Self.cut(visible.map(\.rawValue), try Self.page(request.pageSize, request.pageToken))
        return ListAssignmentsByAssetResponse(
            assignments: items.compactMap { id in
                state.principals[PrincipalID(id)].flatMap { principal in
                    principal.grants[asset].map { Self.assignment(principal, asset, $0) }
                }
            },
            nextPageToken: Self.token(next)
        )
    }

    func listPartners(_ request: ListPartnersRequest, context: inout CallContext) throws -> ListPartnersResponse {
        let (snapshot, _, _) = try self.readView(context)
        let page = try snapshot.partners(
            as: context.caller,
            of: PortfolioID(request.portfolioID),
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.portico.clock.now()
        )
        return ListPartnersResponse(partners: page.items.map(Self.partner), nextPageToken: Self.token(page.nextPageToken))
    }

    func listShares(_ request: ListSharesRequest, context: inout CallContext) throws -> ListSharesResponse {
        let (snapshot, state, scope) = try self.readView(context)
        let portfolio = try Self.portfolioInScope(request.portfolioID, scope, state)
        let shares = Self.shares(of: portfolio, snapshot)
        // Shares are keyed by (asset, partner); a page token is an index into their stable order.
        let start = request.pageToken.isEmpty ? 0 : Int(clamping: try Self.after(request.pageToken))
        let limit = try Self.page(request.pageSize, "").limit
        let slice = Array(shares.dropFirst(start).prefix(limit))
        let next = start + slice.count < shares.count ? String(start + slice.count) : ""
        return ListSharesResponse(shares: slice, nextPageToken: next)
    }

    func listShareRequests(_ request: ListShareRequestsRequest, context: inout CallContext) throws
        -> ListShareRequestsResponse
    {
        let (_, state, scope) = try self.readView(context)
        let portfolio = try Self.portfolioInScope(request.portfolioID, scope, state)
        let wanted: ShareRequestStatus? =
            switch request.state {
            case .unspecified: nil
            case .pending: .pending
            case .approved: .approved
            case .declined: .declined
            }
        let matching = state.shareRequests.values.filter { record in
            (record.requester == portfolio || state.assets[record.asset]?.owner == portfolio)
                && (wanted == nil || record.status == wanted)
        }
        let (items, next) = Self.cut(matching.map(\.id.rawValue), try Self.page(request.pageSize, request.pageToken))
        return ListShareRequestsResponse(
            shareRequests: items.compactMap { id in
                state.shareRequests[ShareRequestID(id)].map {
                    Self.shareRequest($0, owner: Self.owner(of: $0, in: state, for: scope))
                }
            },
            nextPageToken: Self.token(next)
        )
    }

    func listTokens(_ request: ListTokensRequest, context: inout CallContext) throws -> ListTokensResponse {
        let (_, state, scope) = try self.readView(context)
        let user = PrincipalID(request.systemUserID)
        guard let record = state.principals[user] else { throw Self.missing("system user \(user)") }
        try Self.require(scope.covers(principal: user, of: record.portfolio), "the tokens of system user \(user)")
        guard record.kind == .systemUser else { throw CallFailure.wrongKind(user, record.kind, .systemUser) }
        let (items, next) = Self.cut((state.principalTokens[user] ?? []).map(\.rawValue), try Self.page(request.pageSize, request.pageToken))
        let now = self.portico.clock.now()
        return ListTokensResponse(
            tokens: items.compactMap { state.tokens[TokenID($0)].map { Self.tokenInfo($0, now: now) } },
            nextPageToken: Self.token(next)
        )
    }

    func inspectToken(_ request: InspectTokenRequest, context: inout CallContext) throws -> InspectTokenResponse {
        let (snapshot, state, scope) = try self.readView(context)
        guard let id = snapshot.token(presentedSecret: request.token), let record = state.tokens[id] else {
            return InspectTokenResponse(valid: false)
        }
        try Self.require(scope.covers(principal: record.principal, of: record.portfolio), "token \(id)")
        let info = Self.tokenInfo(record, now: self.portico.clock.now())
        return InspectTokenResponse(token: info, valid: info.state == .active)
    }

    // MARK: helpers

    static func require(_ allowed: Bool, _ what: String) throws {
        guard allowed else {
            throw CallFailure(.permissionDenied, "this caller may not read \(what)", reason: "PERMISSION_DENIED", metaCode: 200)
        }
    }

    /// A portfolio the caller may read all of.
    static func portfolioInScope(_ id: UInt64, _ scope: ReadScope, _ state: AccessState) throws -> PortfolioID {
        let portfolio = PortfolioID(id)
        guard state.portfolios[portfolio] != nil else { throw Self.missing("portfolio \(id)") }
        try Self.require(scope.covers(portfolio: portfolio), "portfolio \(id)")
        return portfolio
    }

    /// The ids of the portfolio's principals of one kind (removed ones are not members).
    static func members(_ id: UInt64, _ kind: PrincipalKindTag, _ scope: ReadScope, _ state: AccessState) throws -> [UInt64] {
        let portfolio = try Self.portfolioInScope(id, scope, state)
        return (state.members[portfolio] ?? []).filter { state.principals[$0]?.kind == kind }.map(\.rawValue)
    }

    /// Whether the caller may see `asset`: its owner's or a partner's admin, or a holder of an assignment on it.
    static func canSee(_ asset: AssetRecord, _ scope: ReadScope, _ state: AccessState) -> Bool {
        switch scope {
        case .everything: return true
        case .portfolioAdmin(let portfolio, let me):
            return asset.owner == portfolio || asset.shares[portfolio] != nil || state.principals[me]?.grants[asset.id] != nil
        case .own(let me):
            return state.principals[me]?.grants[asset.id] != nil
        }
    }

    /// Every share `portfolio` granted or received, ordered by asset then partner.
    static func shares(of portfolio: PortfolioID, _ snapshot: AccessSnapshot) -> [Share] {
        let state = snapshot.state
        var pairs: [(AssetID, PortfolioID)] = []
        for asset in state.ownedAssets[portfolio] ?? [] {
            for partner in state.assets[asset]?.shares.keys ?? TreeDictionary<PortfolioID, Grant>().keys { pairs.append((asset, partner)) }
        }
        for asset in state.sharedIn[portfolio] ?? [] { pairs.append((asset, portfolio)) }
        return pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.compactMap { try? Self.share($0.0, $0.1, snapshot) }
    }

    /// The page of `ids` after the page's cursor, and the cursor of the next page.
    static func cut(_ ids: some Sequence<UInt64>, _ page: PageRequest) -> ([UInt64], UInt64?) {
        let sorted = ids.filter { page.after == nil || $0 > page.after! }.sorted()
        let items = Array(sorted.prefix(page.limit))
        return (items, sorted.count > page.limit ? items.last : nil)
    }
}
