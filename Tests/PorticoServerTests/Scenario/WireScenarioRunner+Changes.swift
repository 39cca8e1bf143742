import PorticoClient
import PorticoTestSupport
import PorticoWire

extension WireScenarioRunner {
    /// A change of the scenario as the RPC that makes it.
    func change(_ op: Operation, _ args: Arguments, _ options: CallOptions) async throws -> Done {
        func text(_ value: String?, _ key: String) throws -> String {
            guard let value else { throw ScenarioError.malformed("\(op) needs \(key)") }
            return value
        }
        func role() throws -> PorticoWire.Role { try Self.wireEnum("ROLE_", try text(args.role, "role")) }
        func tasks() throws -> [PorticoWire.AssetTask] { try (args.tasks ?? []).map { try Self.task($0) } }
        func created(_ id: UInt64?, _ revision: UInt64, secret: String = "", kind: PrincipalKind? = nil) -> Done {
            Done(createdID: id, secret: secret.isEmpty ? nil : secret, revision: revision, kind: kind)
        }
        let client = self.client
        switch op {
        case .createPortfolio:
            let tier: PorticoWire.SystemUserTier = try Self.wireEnum("SYSTEM_USER_TIER_", args.tier ?? "NONE")
            let request = CreatePortfolioRequest(
                name: try text(args.name, "name"), systemUserTier: tier, externalID: args.externalId ?? "")
            let response = try await client.createPortfolio(request, options: options)
            return created(response.portfolio?.id, response.revision)
        case .setPortfolioStatus:
            let request = SetPortfolioStatusRequest(
                portfolioID: try self.id(args.portfolio),
                status: try Self.wireEnum("PORTFOLIO_STATUS_", try text(args.status, "status"))
            )
            return Done(revision: try await client.setPortfolioStatus(request, options: options).revision)
        case .setSystemUserTier:
            let request = SetSystemUserTierRequest(
                portfolioID: try self.id(args.portfolio),
                systemUserTier: try Self.wireEnum("SYSTEM_USER_TIER_", try text(args.tier, "tier"))
            )
            return Done(revision: try await client.setSystemUserTier(request, options: options).revision)
        case .issueServiceCredential:
            let request = CreateServiceCredentialRequest(name: try text(args.name, "name"))
            let response = try await client.createServiceCredential(request, options: options)
            return created(response.credential?.id, response.revision, secret: response.secret)
        case .revokeServiceCredential:
            let request = RevokeServiceCredentialRequest(credentialID: try self.id(args.credential))
            return Done(revision: try await client.revokeServiceCredential(request, options: options).revision)
        case .addPerson:
            let request = AddPersonRequest(
                portfolioID: try self.id(args.portfolio),
                name: try text(args.name, "name"),
                role: try role(),
                externalID: args.externalId ?? ""
            )
            let response = try await client.addPerson(request, options: options)
            return created(response.person?.id, response.revision, kind: .person)
        case .setRole:
            // SetPersonRole is the only RPC that sets a role; a system user's id is sent through it as well.
            let request = SetPersonRoleRequest(personID: try self.id(args.principal), role: try role())
            return Done(revision: try await client.setPersonRole(request, options: options).revision)
        case .removePrincipal:
            // RemovePerson or RemoveSystemUser, as the principal is named.
            let principal = try self.principal(args.principal, named: args.principalKind)
            if principal.kind == .systemUser {
                let request = RemoveSystemUserRequest(systemUserID: principal.id)
                return Done(revision: try await client.removeSystemUser(request, options: options).revision)
            }
            return Done(
                revision: try await client.removePerson(.init(personID: principal.id), options: options).revision)
        case .createApp:
            let request = AddAppRequest(
                portfolioID: try self.id(args.portfolio), name: try text(args.name, "name"),
                externalID: args.externalId ?? "")
            let response = try await client.addApp(request, options: options)
            return created(response.app?.id, response.revision, secret: response.appSecret)
        case .addSystemUser:
            let request = CreateSystemUserRequest(
                portfolioID: try self.id(args.portfolio),
                name: try text(args.name, "name"),
                role: try role(),
                externalID: args.externalId ?? ""
            )
            let response = try await client.createSystemUser(request, options: options)
            return created(response.systemUser?.id, response.revision, kind: .systemUser)
        case .addAsset:
            let request = AddAssetRequest(
                portfolioID: try self.id(args.portfolio),
                type: try Self.wireEnum("ASSET_TYPE_", try text(args.type, "type")),
                name: try text(args.name, "name"),
                externalID: args.externalId ?? ""
            )
            let response = try await client.addAsset(request, options: options)
            return created(response.asset?.id, response.revision)
        case .removeAsset:
            let request = RemoveAssetRequest(assetID: try self.id(args.asset))
            return Done(revision: try await client.removeAsset(request, options: options).revision)
        case .assign:
            let request = AssignTasksRequest(
                principal: try self.principal(args.principal, named: args.principalKind),
                assetID: try self.id(args.asset),
                tasks: try tasks(),
                expiresAtUnixMicros: self.expiryMicros(args)
            )
            return Done(revision: try await client.assignTasks(request, options: options).revision)
        case .unassign:
            let request = UnassignTasksRequest(
                principal: try self.principal(args.principal, named: args.principalKind),
                assetID: try self.id(args.asset)
            )
            return Done(revision: try await client.unassignTasks(request, options: options).revision)
        case .share:
            let request = ShareAssetRequest(
                assetID: try self.id(args.asset),
                partnerPortfolioID: try self.id(args.partner),
                tasks: try tasks()
            )
            return Done(revision: try await client.shareAsset(request, options: options).revision)
        case .unshare:
            let request = UnshareAssetRequest(
                assetID: try self.id(args.asset), partnerPortfolioID: try self.id(args.partner))
            return Done(revision: try await client.unshareAsset(request, options: options).revision)
        case .addPartner:
            let request = AddPartnerRequest(
                portfolioID: try self.id(args.portfolio), partnerPortfolioID: try self.id(args.partner))
            return Done(revision: try await client.addPartner(request, options: options).revision)
        case .removePartner:
            let request = RemovePartnerRequest(
                portfolioID: try self.id(args.portfolio),
                partnerPortfolioID: try self.id(args.partner)
            )
            return Done(revision: try await client.removePartner(request, options: options).revision)
        case .requestShare:
            let request = RequestShareRequest(
                portfolioID: try self.id(args.requester),
                assetID: try self.id(args.asset),
                tasks: try tasks()
            )
            let response = try await client.requestShare(request, options: options)
            return created(response.shareRequest?.id, response.revision)
        case .approveShareRequest:
            let request = ApproveShareRequestRequest(shareRequestID: try self.id(args.request))
            return Done(revision: try await client.approveShareRequest(request, options: options).revision)
        case .declineShareRequest:
            let request = DeclineShareRequestRequest(shareRequestID: try self.id(args.request))
            return Done(revision: try await client.declineShareRequest(request, options: options).revision)
        case .generateToken:
            let scopes: [PorticoWire.Scope] = try (args.scopes ?? []).map {
                try Self.wireEnum("SCOPE_", $0.uppercased())
            }
            let request = GenerateTokenRequest(
                systemUserID: try self.id(args.systemUser),
                appID: try self.id(args.app),
                scopes: scopes,
                expiry: try Self.wireEnum("TOKEN_EXPIRY_", args.expiry ?? "NEVER")
            )
            let response = try await client.generateToken(request, options: options)
            return created(response.token?.id, response.revision, secret: response.secret)
        case .revokeToken:
            let request = RevokeTokenRequest(tokenID: try self.id(args.token))
            return Done(revision: try await client.revokeToken(request, options: options).revision)
        case .revokeAllTokens:
            let request = RevokeAllTokensRequest(systemUserID: try self.id(args.systemUser))
            return Done(revision: try await client.revokeAllTokens(request, options: options).revision)
        default:
            throw ScenarioError.malformed("\(op) is not a change")
        }
    }
}
