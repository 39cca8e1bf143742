import HashTreeCollections
import PorticoReasons

/// Operator commands: portfolios, their status and tier, service credentials.
extension AccessState {
    mutating func createPortfolio(name: String, tier: SystemUserTier, externalID: String?,
                                  _ context: inout ApplyContext) throws -> UInt64 {
        try requireOperator(context.caller)
        try validateName(name, context)
        try requireFreeExternalID(externalID, .portfolio, in: 0)
        let id = PortfolioID(takeID())
        portfolios[id] = PortfolioRecord(id: id, createdRevision: context.revision, name: name, status: .active,
                                         tier: tier, appCount: 0, adminSystemUsers: 0, regularSystemUsers: 0,
                                         externalID: externalID)
        checkIndex.setStatus(id, .active)
        bindExternalID(externalID, .portfolio, in: 0, to: id.rawValue, &context)
        context.setTarget(.portfolio, id.rawValue, in: id, "portfolio:\(id)")
        return id.rawValue
    }

    mutating func setStatus(_ id: PortfolioID, _ status: PortfolioStatus, _ context: inout ApplyContext) throws {
        try requireOperator(context.caller)
        var record = try portfolioRecord(id)
        record.status = status
        portfolios[id] = record
        checkIndex.setStatus(id, status)
        context.setTarget(.portfolio, id.rawValue, in: id, "portfolio:\(id)")
        context.note("status \(status.rawValue)")
    }

    /// Changes the tier; refuses to go below the system users the portfolio already has.
    mutating func setTier(_ id: PortfolioID, _ tier: SystemUserTier, _ context: inout ApplyContext) throws {
        try requireOperator(context.caller)
        var record = try portfolioRecord(id)
        guard record.adminSystemUsers <= tier.adminLimit, record.regularSystemUsers <= tier.regularLimit else {
            throw PorticoError.precondition("portfolio \(id) has more system users than tier \(tier.rawValue) allows",
                                            reason: .tierTooLow)
        }
        record.tier = tier
        portfolios[id] = record
        context.setTarget(.portfolio, id.rawValue, in: id, "portfolio:\(id)")
        context.note("tier \(tier.rawValue)")
    }

    mutating func issueCredential(name: String, _ context: inout ApplyContext) throws -> UInt64 {
        try requireOperator(context.caller)
        try validateName(name, context)
        let id = CredentialID(takeID())
        let digest = try context.newSecret(prefix: SecretFormat.credentialPrefix, id: id.rawValue)
        credentials[id] = CredentialRecord(id: id, name: name, createdAt: context.now, revoked: false,
                                           secretDigest: digest)
        context.setTarget(.serviceCredential, id.rawValue, in: nil, "credential:\(id)")
        return id.rawValue
    }

    mutating func revokeCredential(_ id: CredentialID, _ context: inout ApplyContext) throws {
        try requireOperator(context.caller)
        guard var record = credentials[id] else { throw PorticoError.notFound("service credential \(id)") }
        guard !record.revoked else {
            throw PorticoError.precondition("service credential \(id) is already revoked", reason: .alreadyRevoked)
        }
        record.revoked = true
        credentials[id] = record
        context.setTarget(.serviceCredential, id.rawValue, in: nil, "credential:\(id)")
    }
}
