import HashTreeCollections

extension AccessState {
    /// Validates `command` for `context.caller` and applies it, advancing the revision by one.
    ///
    /// Every command checks everything it needs before it changes anything, so a refusal (a throw in
    /// live mode) leaves the value exactly as it was: the sequencer applies in place and relies on it,
    /// and checks it in debug builds on every refusal. (In replay a missing secret digest may throw
    /// half-way; replay then fails as a whole.)
    /// - Returns: the id of what the command created, if any.
    mutating func apply(_ command: Command, _ context: inout ApplyContext) throws -> UInt64? {
        try validateCaller(context.caller, now: context.now)
        context.revision = revision + 1
        let created: UInt64?
        switch command {
        case .createPortfolio(let name, let tier, let externalID):
            created = try createPortfolio(name: name, tier: tier, externalID: externalID, &context)
        case .setPortfolioStatus(let portfolio, let status):
            try setStatus(portfolio, status, &context)
            created = nil
        case .setSystemUserTier(let portfolio, let tier):
            try setTier(portfolio, tier, &context)
            created = nil
        case .issueServiceCredential(let name):
            created = try issueCredential(name: name, &context)
        case .revokeServiceCredential(let credential):
            try revokeCredential(credential, &context)
            created = nil
        case .addPerson(let portfolio, let name, let role, let externalID):
            created = try addPrincipal(portfolio, kind: .person, name: name, role: role, externalID: externalID,
                                       &context)
        case .setRole(let principal, let role):
            try setRole(principal, role, &context)
            created = nil
        case .removePrincipal(let principal):
            try removePrincipal(principal, &context)
            created = nil
        case .createApp(let portfolio, let name, let externalID):
            created = try createApp(portfolio, name: name, externalID: externalID, &context)
        case .addSystemUser(let portfolio, let name, let role, let externalID):
            created = try addPrincipal(portfolio, kind: .systemUser, name: name, role: role, externalID: externalID,
                                       &context)
        case .addAsset(let portfolio, let type, let name, let externalID):
            created = try addAsset(portfolio, type: type, name: name, externalID: externalID, &context)
        case .removeAsset(let asset):
            try removeAsset(asset, &context)
            created = nil
        case .assign(let principal, let asset, let tasks, let expiresAt):
            try assign(principal, asset, tasks, expiresAt: expiresAt, &context)
            created = nil
        case .unassign(let principal, let asset):
            try unassign(principal, asset, &context)
            created = nil
        case .expireAssignments(let portfolio):
            try expireAssignments(in: portfolio, &context)
            created = nil
        case .setExternalID(let kind, let id, let externalID):
            try setExternalID(kind, id, externalID, &context)
            created = nil
        case .share(let asset, let partner, let tasks):
            try share(asset, with: partner, tasks, &context)
            created = nil
        case .unshare(let asset, let partner):
            try unshare(asset, from: partner, &context)
            created = nil
        case .addPartner(let portfolio, let partner):
            try addPartner(portfolio, partner: partner, &context)
            created = nil
        case .removePartner(let portfolio, let partner):
            try removePartner(portfolio, partner: partner, &context)
            created = nil
        case .requestShare(let asset, let requester, let tasks):
            created = try requestShare(asset, by: requester, tasks, &context)
        case .approveShareRequest(let request):
            try decideShareRequest(request, approve: true, &context)
            created = nil
        case .declineShareRequest(let request):
            try decideShareRequest(request, approve: false, &context)
            created = nil
        case .generateToken(let principal, let app, let scopes, let expiry):
            created = try generateToken(principal, app: app, scopes: scopes, expiry: expiry, &context)
        case .revokeToken(let token):
            try revokeToken(token, &context)
            created = nil
        case .revokeAllTokens(let principal):
            try revokeAllTokens(principal, &context)
            created = nil
        }
        revision += 1
        audit.append(AuditEvent(revision: revision, time: context.now, caller: context.caller,
                                     operation: command.name, portfolio: context.portfolio,
                                     targetKind: context.targetKind, targetID: context.targetID,
                                     target: context.target, effects: context.effects.sorted()))
        // After the change applied (a refusal leaves the table as it was): forget the keys the window
        // has passed, then remember this change's.
        idempotency.prune(now: context.now, through: revision - 1, policy: context.policy)
        if let record = context.idempotencyRecord {
            idempotency.insert(record.keyDigest,
                               IdempotencyTable.Entry(revision: revision, fingerprint: command.fingerprint,
                                                      createdID: created ?? 0, time: context.now,
                                                      sealedSecret: record.sealedSecret),
                               policy: context.policy)
        }
        return created
    }
}
