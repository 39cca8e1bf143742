import PorticoCore
import PorticoWire

/// The requests of the changes a preview takes, as core commands: one mapping, which the change's own
/// handler and `PreviewChanges` both use, so a preview applies exactly what the change would.
extension Dispatcher {
    /// A request as a command, with the kind its principal is named as (compared before it applies).
    struct Proposal {
        let command: Command
        let kind: (PrincipalID, PrincipalKindTag)?

        init(_ command: Command, kind: (PrincipalID, PrincipalKindTag)? = nil) {
            self.command = command
            self.kind = kind
        }
    }

    static func proposal(_ request: AssignTasksRequest) throws -> Proposal {
        let (principal, kind) = try Self.principal(request.principal)
        let tasks = try WireMapping.tasks(request.tasks)
        let expiry = try WireMapping.expiry(micros: request.expiresAtUnixMicros, field: "expires_at_unix_micros")
        return Proposal(.assign(principal, AssetID(request.assetID), tasks, expiresAt: expiry), kind: (principal, kind))
    }

    static func proposal(_ request: UnassignTasksRequest) throws -> Proposal {
        let (principal, kind) = try Self.principal(request.principal)
        return Proposal(.unassign(principal, AssetID(request.assetID)), kind: (principal, kind))
    }

    static func proposal(_ request: RemovePersonRequest) -> Proposal {
        let person = PrincipalID(request.personID)
        return Proposal(.removePrincipal(person), kind: (person, .person))
    }

    static func proposal(_ request: RemoveSystemUserRequest) -> Proposal {
        let user = PrincipalID(request.systemUserID)
        return Proposal(.removePrincipal(user), kind: (user, .systemUser))
    }

    /// Sharing and changing a share's tasks are one command (sharing again replaces the tasks).
    static func proposal(share asset: UInt64, with partner: UInt64, _ tasks: [WireAssetTask]) throws -> Proposal {
        Proposal(.share(AssetID(asset), with: PortfolioID(partner), try WireMapping.tasks(tasks)))
    }

    static func proposal(_ request: UnshareAssetRequest) -> Proposal {
        Proposal(.unshare(AssetID(request.assetID), from: PortfolioID(request.partnerPortfolioID)))
    }

    static func proposal(_ request: RemovePartnerRequest) -> Proposal {
        Proposal(.removePartner(PortfolioID(request.portfolioID), partner: PortfolioID(request.partnerPortfolioID)))
    }

    static func proposal(_ request: RemoveAssetRequest) -> Proposal {
        Proposal(.removeAsset(AssetID(request.assetID)))
    }

    static func proposal(_ request: RevokeTokenRequest) -> Proposal {
        Proposal(.revokeToken(TokenID(request.tokenID)))
    }

    static func proposal(_ request: RevokeAllTokensRequest) -> Proposal {
        let user = PrincipalID(request.systemUserID)
        return Proposal(.revokeAllTokens(user), kind: (user, .systemUser))
    }

    /// A proposed change of `PreviewChanges`, as the change's own handler would make it.
    static func proposal(_ change: ProposedChange.Change?, at index: Int) throws -> Proposal {
        switch change {
        case .assignTasks(let request): try Self.proposal(request)
        case .unassignTasks(let request): try Self.proposal(request)
        case .removePerson(let request): Self.proposal(request)
        case .removeSystemUser(let request): Self.proposal(request)
        case .shareAsset(let request):
            try Self.proposal(share: request.assetID, with: request.partnerPortfolioID, request.tasks)
        case .updateShare(let request):
            try Self.proposal(share: request.assetID, with: request.partnerPortfolioID, request.tasks)
        case .unshareAsset(let request): Self.proposal(request)
        case .removePartner(let request): Self.proposal(request)
        case .removeAsset(let request): Self.proposal(request)
        case .revokeToken(let request): Self.proposal(request)
        case .revokeAllTokens(let request): Self.proposal(request)
        case nil: throw CallFailure.invalid("proposed change \(index + 1) names no change", field: "changes")
        }
    }
}
