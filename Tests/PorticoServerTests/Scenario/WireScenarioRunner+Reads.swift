import PorticoClient
import PorticoTestSupport
import PorticoWire

extension WireScenarioRunner {
    /// A get or list of entities of the scenario as the RPC that reads it; the ids it answers.
    func read(_ op: Operation, _ args: Arguments, _ options: CallOptions) async throws -> Outcome {
        let client = self.client
        let page = try self.page(args)
        switch op {
        case .getPortfolio:
            let response = try await client.getPortfolio(
                .init(portfolioID: try self.id(args.portfolio)), options: options)
            return .ids([response.portfolio?.id ?? 0])
        case .getPerson:
            let response = try await client.getPerson(.init(personID: try self.id(args.principal)), options: options)
            return .ids([response.person?.id ?? 0])
        case .getAsset:
            let response = try await client.getAsset(.init(assetID: try self.id(args.asset)), options: options)
            return .ids([response.asset?.id ?? 0])
        case .listPortfolios:
            let response = try await client.listPortfolios(
                .init(pageSize: page.size, pageToken: page.token),
                options: options
            )
            return .ids(response.portfolios.map(\.id))
        case .listPeople:
            let request = ListPeopleRequest(
                portfolioID: try self.id(args.portfolio), pageSize: page.size, pageToken: page.token)
            return .ids(try await client.listPeople(request, options: options).people.map(\.id))
        case .listSystemUsers:
            let request = ListSystemUsersRequest(
                portfolioID: try self.id(args.portfolio),
                pageSize: page.size,
                pageToken: page.token
            )
            return .ids(try await client.listSystemUsers(request, options: options).systemUsers.map(\.id))
        case .listApps:
            let request = ListAppsRequest(
                portfolioID: try self.id(args.portfolio), pageSize: page.size, pageToken: page.token)
            return .ids(try await client.listApps(request, options: options).apps.map(\.id))
        case .listOwnedAssets:
            let request = ListAssetsRequest(
                portfolioID: try self.id(args.portfolio),
                type: try args.type.map { try Self.wireEnum("ASSET_TYPE_", $0) } ?? .unspecified,
                pageSize: page.size,
                pageToken: page.token
            )
            return .ids(try await client.listAssets(request, options: options).assets.map(\.id))
        case .listAssignments:
            if args.asset != nil {
                let request = ListAssignmentsByAssetRequest(
                    assetID: try self.id(args.asset),
                    pageSize: page.size,
                    pageToken: page.token
                )
                let response = try await client.listAssignmentsByAsset(request, options: options)
                return .ids(response.assignments.map { $0.principal?.id ?? 0 })
            }
            let request = ListAssignmentsByPrincipalRequest(
                principal: try self.principal(args.principal, named: args.principalKind),
                pageSize: page.size,
                pageToken: page.token
            )
            return .ids(
                try await client.listAssignmentsByPrincipal(request, options: options).assignments.map(\.assetID))
        case .listShares:
            let request = ListSharesRequest(portfolioID: try self.id(args.portfolio), pageSize: 1000)
            return .ids(try await client.listShares(request, options: options).shares.map(\.assetID))
        case .listShareRequests:
            let request = ListShareRequestsRequest(
                portfolioID: try self.id(args.portfolio),
                state: try args.status.map { try Self.wireEnum("SHARE_REQUEST_STATE_", $0) } ?? .unspecified,
                pageSize: page.size,
                pageToken: page.token
            )
            let requests = try await client.listShareRequests(request, options: options).shareRequests
            return .ids(requests.map(\.id), owners: requests.map(\.ownerPortfolioID))
        case .listTokens:
            let request = ListTokensRequest(
                systemUserID: try self.id(args.systemUser), pageSize: page.size, pageToken: page.token)
            return .ids(try await client.listTokens(request, options: options).tokens.map(\.id))
        case .inspectToken:
            guard let text = args.secret else { throw ScenarioError.malformed("inspectToken needs secret") }
            let secret = text.hasPrefix("@") ? (self.secrets[String(text.dropFirst())] ?? "") : text
            let response = try await client.inspectToken(.init(token: secret), options: options)
            return .ids(response.token.map { [$0.id] } ?? [])
        default:
            throw ScenarioError.malformed("\(op) is not a get or a list")
        }
    }
}
