import PorticoCore
import PorticoWire

/// Gets and lists of entities: answered on the event loop from the current snapshot. Who may see what
/// is the core's (`Visibility`, `AccessSnapshot`'s reads); a handler maps its request to the core's read
/// and the records to wire messages.
extension Dispatcher {
    private var now: Timestamp { self.portico.clock.now() }

    func getPortfolio(_ request: GetPortfolioRequest, context: inout CallContext) throws -> GetPortfolioResponse {
        let snapshot = self.portico.snapshot
        let id = try Self.byIDOrExternal(
            request.portfolioID, request.externalID.isEmpty ? nil : ExternalName(.portfolio, in: 0, request.externalID),
            snapshot, context.caller, now: self.now, field: "portfolio_id")
        let record = try snapshot.portfolio(PortfolioID(id), as: context.caller, now: self.now)
        return GetPortfolioResponse(portfolio: Self.portfolio(record))
    }

    func listPortfolios(_ request: ListPortfoliosRequest, context: inout CallContext) throws -> ListPortfoliosResponse {
        let page = try self.portico.snapshot.portfolios(
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListPortfoliosResponse(portfolios: page.items.map(Self.portfolio), nextPageToken: Self.token(page))
    }

    func listServiceCredentials(_ request: ListServiceCredentialsRequest, context: inout CallContext) throws
        -> ListServiceCredentialsResponse
    {
        let page = try self.portico.snapshot.serviceCredentials(
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken)
        )
        return ListServiceCredentialsResponse(
            credentials: page.items.map(Self.credential), nextPageToken: Self.token(page))
    }

    func getPerson(_ request: GetPersonRequest, context: inout CallContext) throws -> GetPersonResponse {
        let snapshot = self.portico.snapshot
        let id = try Self.byIDOrExternal(
            request.personID, try request.external.map { try Self.name(.person, $0, snapshot, field: "external") },
            snapshot, context.caller, now: self.now, field: "person_id")
        let record = try snapshot.person(PrincipalID(id), as: context.caller, now: self.now)
        return GetPersonResponse(person: Self.person(record))
    }

    func listPeople(_ request: ListPeopleRequest, context: inout CallContext) throws -> ListPeopleResponse {
        let page = try self.portico.snapshot.members(
            of: PortfolioID(request.portfolioID),
            kind: .person,
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListPeopleResponse(people: page.items.map(Self.person), nextPageToken: Self.token(page))
    }

    func listSystemUsers(_ request: ListSystemUsersRequest, context: inout CallContext) throws
        -> ListSystemUsersResponse
    {
        let page = try self.portico.snapshot.members(
            of: PortfolioID(request.portfolioID),
            kind: .systemUser,
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListSystemUsersResponse(systemUsers: page.items.map(Self.systemUser), nextPageToken: Self.token(page))
    }

    func listApps(_ request: ListAppsRequest, context: inout CallContext) throws -> ListAppsResponse {
        let page = try self.portico.snapshot.apps(
            of: PortfolioID(request.portfolioID),
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListAppsResponse(apps: page.items.map(Self.app), nextPageToken: Self.token(page))
    }

    func getAsset(_ request: GetAssetRequest, context: inout CallContext) throws -> GetAssetResponse {
        let snapshot = self.portico.snapshot
        let id = try Self.byIDOrExternal(
            request.assetID, try request.external.map { try Self.name(.asset, $0, snapshot, field: "external") },
            snapshot, context.caller, now: self.now, field: "asset_id")
        let record = try snapshot.asset(AssetID(id), as: context.caller, now: self.now)
        return GetAssetResponse(asset: Self.asset(record))
    }

    func listAssets(_ request: ListAssetsRequest, context: inout CallContext) throws -> ListAssetsResponse {
        let page = try self.portico.snapshot.assets(
            ownedBy: PortfolioID(request.portfolioID),
            type: WireMapping.optionalAssetType(request.type),
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListAssetsResponse(assets: page.items.map(Self.asset), nextPageToken: Self.token(page))
    }

    func listAssignmentsByPrincipal(_ request: ListAssignmentsByPrincipalRequest, context: inout CallContext) throws
        -> ListAssignmentsByPrincipalResponse
    {
        let (principal, kind) = try Self.principal(request.principal)
        let (record, page) = try self.portico.snapshot.assignments(
            of: principal,
            kind: kind,
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListAssignmentsByPrincipalResponse(
            assignments: page.items.compactMap { asset in
                record.grants[asset].map { Self.assignment(record, asset, $0) }
            },
            nextPageToken: Self.token(page)
        )
    }

    func listAssignmentsByAsset(_ request: ListAssignmentsByAssetRequest, context: inout CallContext) throws
        -> ListAssignmentsByAssetResponse
    {
        let asset = AssetID(request.assetID)
        let page = try self.portico.snapshot.assignments(
            on: asset,
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListAssignmentsByAssetResponse(
            assignments: page.items.compactMap { record in
                record.grants[asset].map { Self.assignment(record, asset, $0) }
            },
            nextPageToken: Self.token(page)
        )
    }

    func listPartners(_ request: ListPartnersRequest, context: inout CallContext) throws -> ListPartnersResponse {
        let page = try self.portico.snapshot.partners(
            as: context.caller,
            of: PortfolioID(request.portfolioID),
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListPartnersResponse(
            partners: page.items.map(Self.partner), nextPageToken: Self.token(page.nextPageToken))
    }

    func listShares(_ request: ListSharesRequest, context: inout CallContext) throws -> ListSharesResponse {
        let shares = try self.portico.snapshot.shares(
            of: PortfolioID(request.portfolioID), as: context.caller, now: self.now)
        // Shares are keyed by (asset, partner); a page token is an index into their stable order.
        let start = request.pageToken.isEmpty ? 0 : Int(clamping: try Self.after(request.pageToken))
        let limit = try Self.page(request.pageSize, "").limit
        let slice = shares.dropFirst(start).prefix(limit).map { share in
            Share(
                assetID: share.asset.id.rawValue,
                ownerPortfolioID: share.asset.owner.rawValue,
                partnerPortfolioID: share.partner.rawValue,
                tasks: WireMapping.wire(share.grant.granted)
            )
        }
        let next = start + slice.count < shares.count ? String(start + slice.count) : ""
        return ListSharesResponse(shares: slice, nextPageToken: next)
    }

    func listShareRequests(_ request: ListShareRequestsRequest, context: inout CallContext) throws
        -> ListShareRequestsResponse
    {
        let status: ShareRequestStatus? =
            switch request.state {
            case .unspecified: nil
            case .pending: .pending
            case .approved: .approved
            case .declined: .declined
            }
        let page = try self.portico.snapshot.shareRequests(
            of: PortfolioID(request.portfolioID),
            status: status,
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.now
        )
        return ListShareRequestsResponse(
            shareRequests: page.items.map(Self.shareRequest), nextPageToken: Self.token(page))
    }

    func listTokens(_ request: ListTokensRequest, context: inout CallContext) throws -> ListTokensResponse {
        let now = self.now
        let page = try self.portico.snapshot.tokens(
            of: PrincipalID(request.systemUserID),
            as: context.caller,
            page: try Self.page(request.pageSize, request.pageToken),
            now: now
        )
        return ListTokensResponse(
            tokens: page.items.map { Self.tokenInfo($0, now: now) }, nextPageToken: Self.token(page))
    }

    func inspectToken(_ request: InspectTokenRequest, context: inout CallContext) throws -> InspectTokenResponse {
        let now = self.now
        guard
            let record = try self.portico.snapshot.inspect(presentedSecret: request.token, as: context.caller, now: now)
        else { return InspectTokenResponse(valid: false) }
        let info = Self.tokenInfo(record, now: now)
        return InspectTokenResponse(token: info, valid: info.state == .active)
    }
}
