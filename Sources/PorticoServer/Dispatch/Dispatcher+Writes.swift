import HashTreeCollections
import NIOCore
import PorticoCore
import PorticoWire

/// Changes: the request is decoded and validated on the event loop; the command then runs through
/// its portfolio's lane in the core, and the answer is built from the snapshot that holds the change.
extension Dispatcher {
    /// Builds the answer to a committed command from its result and a snapshot that includes it.
    typealias Answer = @Sendable (CommandResult, AccessSnapshot) throws -> any WireMessage

    func write(_ method: Method, _ body: ByteBuffer, _ caller: Caller, _ responder: Responder,
               deadline: NIODeadline?) throws -> DeferredCall? {
        let (command, answer) = try self.command(method, body, responder)
        let portico = self.portico
        let deadline = deadline.map(ContinuousClock.Instant.init)
        return {
            do {
                let result = try await portico.execute(command, as: caller, deadline: deadline)
                return .success(try answer(result, portico.snapshot))
            } catch {
                return .failure(CallFailure(any: error))
            }
        }
    }

    // swift-format-ignore
    private func command(_ method: Method, _ body: ByteBuffer, _ responder: Responder) throws -> (Command, Answer) {
        switch method {
        case .createPortfolio:
            let request = try responder.decode(CreatePortfolioRequest.self, from: body)
            return (.createPortfolio(name: request.name, tier: try WireMapping.tier(request.systemUserTier, fallback: PorticoCore.SystemUserTier.none)), { result, snapshot in
                CreatePortfolioResponse(portfolio: try Self.portfolio(result.created(), snapshot), revision: result.revision)
            })
        case .setPortfolioStatus:
            let request = try responder.decode(SetPortfolioStatusRequest.self, from: body)
            let id = PortfolioID(request.portfolioID)
            return (.setPortfolioStatus(id, try WireMapping.status(request.status)), { result, snapshot in
                SetPortfolioStatusResponse(portfolio: try Self.portfolio(id.rawValue, snapshot), revision: result.revision)
            })
        case .setSystemUserTier:
            let request = try responder.decode(SetSystemUserTierRequest.self, from: body)
            let id = PortfolioID(request.portfolioID)
            return (.setSystemUserTier(id, try WireMapping.tier(request.systemUserTier)), { result, snapshot in
                SetSystemUserTierResponse(portfolio: try Self.portfolio(id.rawValue, snapshot), revision: result.revision)
            })
        case .createServiceCredential:
            let request = try responder.decode(CreateServiceCredentialRequest.self, from: body)
            return (.issueServiceCredential(name: request.name), { result, snapshot in
                CreateServiceCredentialResponse(
                    credential: try Self.credential(result.created(), snapshot),
                    secret: result.secret ?? "",
                    revision: result.revision
                )
            })
        case .revokeServiceCredential:
            let request = try responder.decode(RevokeServiceCredentialRequest.self, from: body)
            return (.revokeServiceCredential(CredentialID(request.credentialID)), { result, _ in
                RevokeServiceCredentialResponse(revision: result.revision)
            })
        case .addPerson:
            let request = try responder.decode(AddPersonRequest.self, from: body)
            let command = Command.addPerson(
                PortfolioID(request.portfolioID), name: request.name, role: try WireMapping.role(request.role)
            )
            return (command, { result, snapshot in
                AddPersonResponse(person: try Self.person(result.created(), snapshot), revision: result.revision)
            })
        case .setPersonRole:
            let request = try responder.decode(SetPersonRoleRequest.self, from: body)
            let id = PrincipalID(request.personID)
            return (.setRole(id, try WireMapping.role(request.role)), { result, snapshot in
                SetPersonRoleResponse(person: try Self.person(id.rawValue, snapshot), revision: result.revision)
            })
        case .removePerson:
            let request = try responder.decode(RemovePersonRequest.self, from: body)
            return (.removePrincipal(PrincipalID(request.personID)), { result, _ in
                RemovePersonResponse(revision: result.revision)
            })
        case .createSystemUser:
            let request = try responder.decode(CreateSystemUserRequest.self, from: body)
            let command = Command.addSystemUser(
                PortfolioID(request.portfolioID), name: request.name, role: try WireMapping.role(request.role)
            )
            return (command, { result, snapshot in
                CreateSystemUserResponse(systemUser: try Self.systemUser(result.created(), snapshot), revision: result.revision)
            })
        case .removeSystemUser:
            let request = try responder.decode(RemoveSystemUserRequest.self, from: body)
            return (.removePrincipal(PrincipalID(request.systemUserID)), { result, _ in
                RemoveSystemUserResponse(revision: result.revision)
            })
        case .addApp:
            let request = try responder.decode(AddAppRequest.self, from: body)
            return (.createApp(PortfolioID(request.portfolioID), name: request.name), { result, snapshot in
                AddAppResponse(app: try Self.app(result.created(), snapshot), appSecret: result.secret ?? "", revision: result.revision)
            })
        case .addAsset:
            let request = try responder.decode(AddAssetRequest.self, from: body)
            let command = Command.addAsset(
                PortfolioID(request.portfolioID), type: try WireMapping.assetType(request.type), name: request.name
            )
            return (command, { result, snapshot in
                AddAssetResponse(asset: try Self.asset(result.created(), snapshot), revision: result.revision)
            })
        case .removeAsset:
            let request = try responder.decode(RemoveAssetRequest.self, from: body)
            return (.removeAsset(AssetID(request.assetID)), { result, _ in RemoveAssetResponse(revision: result.revision) })
        case .assignTasks:
            let request = try responder.decode(AssignTasksRequest.self, from: body)
            let principal = try Self.principal(request.principal)
            let asset = AssetID(request.assetID)
            let tasks = try WireMapping.tasks(request.tasks)
            return (.assign(principal, asset, tasks), { result, snapshot in
                AssignTasksResponse(assignment: Self.assignment(principal, asset, snapshot), revision: result.revision)
            })
        case .unassignTasks:
            let request = try responder.decode(UnassignTasksRequest.self, from: body)
            return (.unassign(try Self.principal(request.principal), AssetID(request.assetID)), { result, _ in
                UnassignTasksResponse(revision: result.revision)
            })
        case .shareAsset, .updateShare:
            let request = try responder.decode(ShareAssetRequest.self, from: body)
            let asset = AssetID(request.assetID)
            let partner = PortfolioID(request.partnerPortfolioID)
            let tasks = try WireMapping.tasks(request.tasks)
            return (.share(asset, with: partner, tasks), { result, snapshot in
                let share = try Self.share(asset, partner, snapshot)
                return method == .shareAsset
                    ? ShareAssetResponse(share: share, revision: result.revision)
                    : UpdateShareResponse(share: share, revision: result.revision)
            })
        case .unshareAsset:
            let request = try responder.decode(UnshareAssetRequest.self, from: body)
            return (.unshare(AssetID(request.assetID), from: PortfolioID(request.partnerPortfolioID)), { result, _ in
                UnshareAssetResponse(revision: result.revision)
            })
        case .addPartner:
            let request = try responder.decode(AddPartnerRequest.self, from: body)
            let portfolio = PortfolioID(request.portfolioID)
            let partner = PortfolioID(request.partnerPortfolioID)
            return (.addPartner(portfolio, partner: partner), { result, snapshot in
                guard let record = snapshot.state.partnership(portfolio, partner: partner) else {
                    throw Self.missing("partnership of portfolio \(portfolio) with \(partner)")
                }
                return AddPartnerResponse(partner: Self.partner(record), revision: result.revision)
            })
        case .removePartner:
            let request = try responder.decode(RemovePartnerRequest.self, from: body)
            let command = Command.removePartner(PortfolioID(request.portfolioID), partner: PortfolioID(request.partnerPortfolioID))
            return (command, { result, _ in RemovePartnerResponse(revision: result.revision) })
        case .requestShare:
            let request = try responder.decode(RequestShareRequest.self, from: body)
            let tasks = try WireMapping.tasks(request.tasks)
            return (.requestShare(AssetID(request.assetID), by: PortfolioID(request.portfolioID), tasks), { result, snapshot in
                RequestShareResponse(shareRequest: try Self.shareRequest(result.created(), snapshot), revision: result.revision)
            })
        case .approveShareRequest:
            let request = try responder.decode(ApproveShareRequestRequest.self, from: body)
            let id = ShareRequestID(request.shareRequestID)
            return (.approveShareRequest(id), { result, snapshot in
                let shareRequest = try Self.shareRequest(id.rawValue, snapshot)
                let share = try? Self.share(AssetID(shareRequest.assetID), PortfolioID(shareRequest.requestingPortfolioID), snapshot)
                return ApproveShareRequestResponse(shareRequest: shareRequest, share: share, revision: result.revision)
            })
        case .declineShareRequest:
            let request = try responder.decode(DeclineShareRequestRequest.self, from: body)
            let id = ShareRequestID(request.shareRequestID)
            return (.declineShareRequest(id), { result, snapshot in
                DeclineShareRequestResponse(shareRequest: try Self.shareRequest(id.rawValue, snapshot), revision: result.revision)
            })
        case .generateToken:
            let request = try responder.decode(GenerateTokenRequest.self, from: body)
            let scopes = try WireMapping.scopes(request.scopes)
            let command = Command.generateToken(
                PrincipalID(request.systemUserID), app: AppID(request.appID), scopes: scopes, expiry: WireMapping.expiry(request.expiry)
            )
            let portico = self.portico
            return (command, { result, snapshot in
                GenerateTokenResponse(
                    token: try Self.tokenInfo(TokenID(result.created()), snapshot, now: portico.clock.now()),
                    secret: result.secret ?? "",
                    revision: result.revision
                )
            })
        case .revokeToken:
            let request = try responder.decode(RevokeTokenRequest.self, from: body)
            return (.revokeToken(TokenID(request.tokenID)), { result, _ in RevokeTokenResponse(revision: result.revision) })
        case .revokeAllTokens:
            let request = try responder.decode(RevokeAllTokensRequest.self, from: body)
            return (.revokeAllTokens(PrincipalID(request.systemUserID)), { result, _ in
                RevokeAllTokensResponse(revision: result.revision)
            })
        default:
            throw CallFailure(.unimplemented, "\(method.protoValueName) is not implemented yet", reason: "NOT_IMPLEMENTED")
        }
    }
}

extension CommandResult {
    /// The id of what the command created.
    func created() throws -> UInt64 {
        guard let createdID else { throw CallFailure(.internal, "the change created nothing", reason: "INTERNAL") }
        return createdID
    }
}
