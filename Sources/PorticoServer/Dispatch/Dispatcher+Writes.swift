import PorticoCore
import PorticoReasons
import PorticoWire

/// Changes: each handler turns its request into a core command, runs it through the core's sequencer
/// (durable and published before it returns), and answers from a snapshot that holds the change.
extension Dispatcher {
    /// Fails unless `principal` is of `kind`, before a change to it (`AccessSnapshot.requireKind`).
    private func requireKind(of principal: PrincipalID, _ kind: PrincipalKindTag, _ context: CallContext) throws {
        try self.portico.snapshot.requireKind(
            of: principal, kind, changedBy: context.caller, now: self.portico.clock.now())
    }

    /// Runs a proposal: compares the kind its principal is named as, then executes its command.
    private func execute(_ proposal: Proposal, _ context: CallContext) async throws -> (CommandResult, AccessSnapshot) {
        if let (principal, kind) = proposal.kind { try self.requireKind(of: principal, kind, context) }
        return try await self.execute(proposal.command, context)
    }

    /// Runs `command` for the call's caller, with the call's idempotency key; returns its result (a
    /// retry's: the first change's) and a snapshot that includes it. A command whose deadline passed
    /// before it was validated is refused unchanged (DEADLINE_EXCEEDED), so a client told its write timed
    /// out while it waited can rely on it not being applied (docs/protocol.md, section 7).
    func execute(_ command: Command, _ context: CallContext) async throws -> (CommandResult, AccessSnapshot) {
        let deadline = context.deadline.map(ContinuousClock.Instant.init)
        let result = try await self.portico.execute(
            command, as: context.caller, deadline: deadline, idempotencyKey: context.idempotencyKey)
        return (result, self.portico.snapshot)
    }

    func createPortfolio(_ request: CreatePortfolioRequest, context: CallContext) async throws
        -> CreatePortfolioResponse
    {
        let tier = try WireMapping.tier(request.systemUserTier, fallback: PorticoCore.SystemUserTier.none)
        let command = Command.createPortfolio(
            name: request.name, tier: tier, externalID: WireMapping.optional(request.externalID))
        let (result, snapshot) = try await self.execute(command, context)
        return CreatePortfolioResponse(
            portfolio: try Self.portfolio(result.created(), snapshot), revision: result.revision)
    }

    func setPortfolioStatus(_ request: SetPortfolioStatusRequest, context: CallContext) async throws
        -> SetPortfolioStatusResponse
    {
        let id = PortfolioID(request.portfolioID)
        let (result, snapshot) = try await self.execute(
            .setPortfolioStatus(id, try WireMapping.status(request.status)),
            context
        )
        return SetPortfolioStatusResponse(
            portfolio: try Self.portfolio(id.rawValue, snapshot), revision: result.revision)
    }

    func setSystemUserTier(_ request: SetSystemUserTierRequest, context: CallContext) async throws
        -> SetSystemUserTierResponse
    {
        let id = PortfolioID(request.portfolioID)
        let (result, snapshot) = try await self.execute(
            .setSystemUserTier(id, try WireMapping.tier(request.systemUserTier)),
            context
        )
        return SetSystemUserTierResponse(
            portfolio: try Self.portfolio(id.rawValue, snapshot), revision: result.revision)
    }

    func createServiceCredential(_ request: CreateServiceCredentialRequest, context: CallContext) async throws
        -> CreateServiceCredentialResponse
    {
        let (result, snapshot) = try await self.execute(.issueServiceCredential(name: request.name), context)
        return CreateServiceCredentialResponse(
            credential: try Self.credential(result.created(), snapshot),
            secret: result.secret ?? "",
            revision: result.revision
        )
    }

    func revokeServiceCredential(_ request: RevokeServiceCredentialRequest, context: CallContext) async throws
        -> RevokeServiceCredentialResponse
    {
        let (result, _) = try await self.execute(.revokeServiceCredential(CredentialID(request.credentialID)), context)
        return RevokeServiceCredentialResponse(revision: result.revision)
    }

    func addPerson(_ request: AddPersonRequest, context: CallContext) async throws -> AddPersonResponse {
        let command = Command.addPerson(
            PortfolioID(request.portfolioID),
            name: request.name,
            role: try WireMapping.role(request.role),
            externalID: WireMapping.optional(request.externalID)
        )
        let (result, snapshot) = try await self.execute(command, context)
        return AddPersonResponse(person: try Self.person(result.created(), snapshot), revision: result.revision)
    }

    func setPersonRole(_ request: SetPersonRoleRequest, context: CallContext) async throws -> SetPersonRoleResponse {
        let id = PrincipalID(request.personID)
        let (result, snapshot) = try await self.execute(.setRole(id, try WireMapping.role(request.role)), context)
        return SetPersonRoleResponse(person: try Self.person(id.rawValue, snapshot), revision: result.revision)
    }

    func removePerson(_ request: RemovePersonRequest, context: CallContext) async throws -> RemovePersonResponse {
        let (result, _) = try await self.execute(Self.proposal(request), context)
        return RemovePersonResponse(revision: result.revision)
    }

    func createSystemUser(_ request: CreateSystemUserRequest, context: CallContext) async throws
        -> CreateSystemUserResponse
    {
        let command = Command.addSystemUser(
            PortfolioID(request.portfolioID),
            name: request.name,
            role: try WireMapping.role(request.role),
            externalID: WireMapping.optional(request.externalID)
        )
        let (result, snapshot) = try await self.execute(command, context)
        return CreateSystemUserResponse(
            systemUser: try Self.systemUser(result.created(), snapshot),
            revision: result.revision
        )
    }

    func removeSystemUser(_ request: RemoveSystemUserRequest, context: CallContext) async throws
        -> RemoveSystemUserResponse
    {
        let (result, _) = try await self.execute(Self.proposal(request), context)
        return RemoveSystemUserResponse(revision: result.revision)
    }

    func addApp(_ request: AddAppRequest, context: CallContext) async throws -> AddAppResponse {
        let (result, snapshot) = try await self.execute(
            .createApp(
                PortfolioID(request.portfolioID), name: request.name,
                externalID: WireMapping.optional(request.externalID)),
            context
        )
        return AddAppResponse(
            app: try Self.app(result.created(), snapshot),
            appSecret: result.secret ?? "",
            revision: result.revision
        )
    }

    func addAsset(_ request: AddAssetRequest, context: CallContext) async throws -> AddAssetResponse {
        let command = Command.addAsset(
            PortfolioID(request.portfolioID),
            type: try WireMapping.assetType(request.type),
            name: request.name,
            externalID: WireMapping.optional(request.externalID)
        )
        let (result, snapshot) = try await self.execute(command, context)
        return AddAssetResponse(asset: try Self.asset(result.created(), snapshot), revision: result.revision)
    }

    func removeAsset(_ request: RemoveAssetRequest, context: CallContext) async throws -> RemoveAssetResponse {
        let (result, _) = try await self.execute(Self.proposal(request), context)
        return RemoveAssetResponse(revision: result.revision)
    }

    func assignTasks(_ request: AssignTasksRequest, context: CallContext) async throws -> AssignTasksResponse {
        let proposal = try Self.proposal(request)
        let (result, snapshot) = try await self.execute(proposal, context)
        let principal = PrincipalID(request.principal?.id ?? 0)
        return AssignTasksResponse(
            assignment: Self.assignment(principal, AssetID(request.assetID), snapshot), revision: result.revision)
    }

    func unassignTasks(_ request: UnassignTasksRequest, context: CallContext) async throws -> UnassignTasksResponse {
        let (result, _) = try await self.execute(try Self.proposal(request), context)
        return UnassignTasksResponse(revision: result.revision)
    }

    func shareAsset(_ request: ShareAssetRequest, context: CallContext) async throws -> ShareAssetResponse {
        let (share, revision) = try await self.share(
            request.assetID, request.partnerPortfolioID, request.tasks, context)
        return ShareAssetResponse(share: share, revision: revision)
    }

    func updateShare(_ request: UpdateShareRequest, context: CallContext) async throws -> UpdateShareResponse {
        let (share, revision) = try await self.share(
            request.assetID, request.partnerPortfolioID, request.tasks, context)
        return UpdateShareResponse(share: share, revision: revision)
    }

    /// Shares an asset, or changes a share's tasks: the same command (sharing again replaces the tasks).
    private func share(_ asset: UInt64, _ partner: UInt64, _ tasks: [WireAssetTask], _ context: CallContext)
        async throws -> (Share, UInt64)
    {
        let (result, snapshot) = try await self.execute(try Self.proposal(share: asset, with: partner, tasks), context)
        return (try Self.share(AssetID(asset), PortfolioID(partner), snapshot), result.revision)
    }

    func unshareAsset(_ request: UnshareAssetRequest, context: CallContext) async throws -> UnshareAssetResponse {
        let (result, _) = try await self.execute(Self.proposal(request), context)
        return UnshareAssetResponse(revision: result.revision)
    }

    func addPartner(_ request: AddPartnerRequest, context: CallContext) async throws -> AddPartnerResponse {
        let portfolio = PortfolioID(request.portfolioID)
        let partner = PortfolioID(request.partnerPortfolioID)
        let (result, snapshot) = try await self.execute(.addPartner(portfolio, partner: partner), context)
        guard let record = snapshot.state.partnership(portfolio, partner: partner) else {
            throw Self.missing("partnership of portfolio \(portfolio) with \(partner)")
        }
        return AddPartnerResponse(partner: Self.partner(record), revision: result.revision)
    }

    func removePartner(_ request: RemovePartnerRequest, context: CallContext) async throws -> RemovePartnerResponse {
        let (result, _) = try await self.execute(Self.proposal(request), context)
        return RemovePartnerResponse(revision: result.revision)
    }

    func requestShare(_ request: RequestShareRequest, context: CallContext) async throws -> RequestShareResponse {
        let command = Command.requestShare(
            AssetID(request.assetID),
            by: PortfolioID(request.portfolioID),
            try WireMapping.tasks(request.tasks)
        )
        let (result, snapshot) = try await self.execute(command, context)
        return RequestShareResponse(
            shareRequest: try Self.shareRequest(
                result.created(), snapshot, for: context.caller, now: self.portico.clock.now()),
            revision: result.revision
        )
    }

    func approveShareRequest(_ request: ApproveShareRequestRequest, context: CallContext) async throws
        -> ApproveShareRequestResponse
    {
        let id = ShareRequestID(request.shareRequestID)
        let (result, snapshot) = try await self.execute(.approveShareRequest(id), context)
        let shareRequest = try Self.shareRequest(
            id.rawValue, snapshot, for: context.caller, now: self.portico.clock.now())
        let share = try? Self.share(
            AssetID(shareRequest.assetID),
            PortfolioID(shareRequest.requestingPortfolioID),
            snapshot
        )
        return ApproveShareRequestResponse(shareRequest: shareRequest, share: share, revision: result.revision)
    }

    func declineShareRequest(_ request: DeclineShareRequestRequest, context: CallContext) async throws
        -> DeclineShareRequestResponse
    {
        let id = ShareRequestID(request.shareRequestID)
        let (result, snapshot) = try await self.execute(.declineShareRequest(id), context)
        return DeclineShareRequestResponse(
            shareRequest: try Self.shareRequest(
                id.rawValue, snapshot, for: context.caller, now: self.portico.clock.now()),
            revision: result.revision
        )
    }

    func generateToken(_ request: GenerateTokenRequest, context: CallContext) async throws -> GenerateTokenResponse {
        let command = Command.generateToken(
            PrincipalID(request.systemUserID),
            app: AppID(request.appID),
            scopes: try WireMapping.scopes(request.scopes),
            expiry: WireMapping.expiry(request.expiry)
        )
        let (result, snapshot) = try await self.execute(command, context)
        return GenerateTokenResponse(
            token: try Self.tokenInfo(TokenID(result.created()), snapshot, now: self.portico.clock.now()),
            secret: result.secret ?? "",
            revision: result.revision
        )
    }

    func revokeToken(_ request: RevokeTokenRequest, context: CallContext) async throws -> RevokeTokenResponse {
        let (result, _) = try await self.execute(Self.proposal(request), context)
        return RevokeTokenResponse(revision: result.revision)
    }

    func revokeAllTokens(_ request: RevokeAllTokensRequest, context: CallContext) async throws
        -> RevokeAllTokensResponse
    {
        let (result, _) = try await self.execute(Self.proposal(request), context)
        return RevokeAllTokensResponse(revision: result.revision)
    }
}

extension CommandResult {
    /// The id of what the command created.
    func created() throws -> UInt64 {
        guard let createdID else { throw CallFailure(.internal, "the change created nothing", reason: .`internal`) }
        return createdID
    }
}
