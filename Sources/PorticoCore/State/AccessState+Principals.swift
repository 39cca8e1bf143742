import HashTreeCollections
import PorticoReasons

/// People, system users and apps.
extension AccessState {
    /// Adds a person or a system user; system users obey the tier limits and need an app.
    mutating func addPrincipal(
        _ portfolio: PortfolioID, kind: PrincipalKindTag, name: String, role: Role,
        externalID: String?, _ context: inout ApplyContext
    ) throws -> UInt64 {
        var record = try portfolioToChange(portfolio, context)
        try requireWritable(portfolio, context.caller, grows: true)
        try validateName(name, context)
        try requireFreeExternalID(externalID, ExternalKind(kind), in: portfolio.rawValue)
        if kind == .systemUser {
            guard record.tier != .none else {
                throw PorticoError.precondition(
                    "portfolio \(portfolio) has no access to system users",
                    reason: .systemUsersNotAvailable)
            }
            guard record.appCount > 0 else {
                throw PorticoError.precondition(
                    "portfolio \(portfolio) must own an app before adding system users",
                    reason: .appRequired)
            }
            switch role {
            case .admin:
                guard record.adminSystemUsers < record.tier.adminLimit else {
                    throw PorticoError(
                        .resourceExhausted, "portfolio \(portfolio) already has its admin system user",
                        reason: .adminSystemUserExists)
                }
                record.adminSystemUsers += 1
            case .employee:
                guard record.regularSystemUsers < record.tier.regularLimit else {
                    throw PorticoError(
                        .resourceExhausted,
                        "tier \(record.tier.rawValue) allows \(record.tier.regularLimit) regular system users",
                        reason: .systemUserLimit)
                }
                record.regularSystemUsers += 1
            }
            portfolios[portfolio] = record
        }
        let id = PrincipalID(takeID())
        principals[id] = PrincipalRecord(
            id: id, portfolio: portfolio, kind: kind, role: role, name: name,
            removed: false, grants: [:], externalID: externalID)
        checkIndex.addPrincipal(id, portfolio: portfolio, kind: kind, role: role)
        bindExternalID(externalID, ExternalKind(kind), in: portfolio.rawValue, to: id.rawValue, &context)
        members.insert(id, into: portfolio)
        context.setTarget(
            kind == .person ? .person : .systemUser, id.rawValue, in: portfolio,
            "\(kind == .person ? "person" : "system_user"):\(id)")
        return id.rawValue
    }

    /// Changes a person's role; a system user's role is fixed because the tier limits count it.
    mutating func setRole(_ id: PrincipalID, _ role: Role, _ context: inout ApplyContext) throws {
        var record = try principalToChange(id, context)
        try requireWritable(record.portfolio, context.caller, grows: role == .admin)
        guard record.kind == .person else {
            throw PorticoError.invalid("a system user's role cannot change", reason: .roleFixed)
        }
        record.role = role
        principals[id] = record
        checkIndex.updatePrincipal(id) { $0.role = role }
        context.setTarget(.person, id.rawValue, in: record.portfolio, "person:\(id)")
        context.note("role \(role.rawValue)")
    }

    /// Removes a principal: its assignments go and its tokens are revoked, in the same change.
    mutating func removePrincipal(_ id: PrincipalID, _ context: inout ApplyContext) throws {
        var record = try principalToChange(id, context)
        try requireWritable(record.portfolio, context.caller, grows: false)
        for (asset, grant) in record.grants {
            assignees.remove(id, from: asset)
            noteExpiry(id, asset, nil, was: grant)
            context.note("unassigned asset:\(asset)")
        }
        record.grants = [:]
        checkIndex.setAssignments(id, .empty)
        record.removed = true
        principals[id] = record
        checkIndex.updatePrincipal(id) { $0.removed = true }
        members.remove(id, from: record.portfolio)
        unbindExternalID(record.externalID, ExternalKind(record.kind), in: record.portfolio.rawValue)
        revokeTokens(of: id, &context)
        if record.kind == .systemUser, var portfolio = portfolios[record.portfolio] {
            if record.role == .admin { portfolio.adminSystemUsers -= 1 } else { portfolio.regularSystemUsers -= 1 }
            portfolios[record.portfolio] = portfolio
        }
        context.setTarget(
            record.kind == .person ? .person : .systemUser, id.rawValue, in: record.portfolio,
            "\(record.kind == .person ? "person" : "system_user"):\(id)")
    }

    mutating func createApp(
        _ portfolio: PortfolioID, name: String, externalID: String?,
        _ context: inout ApplyContext
    ) throws -> UInt64 {
        var record = try portfolioToChange(portfolio, context)
        try requireWritable(portfolio, context.caller, grows: true)
        try validateName(name, context)
        try requireFreeExternalID(externalID, .app, in: portfolio.rawValue)
        let id = AppID(takeID())
        let digest = try context.newSecret(prefix: SecretFormat.appSecretPrefix, id: id.rawValue)
        apps[id] = AppRecord(id: id, portfolio: portfolio, name: name, secretDigest: digest, externalID: externalID)
        bindExternalID(externalID, .app, in: portfolio.rawValue, to: id.rawValue, &context)
        record.appCount += 1
        portfolios[portfolio] = record
        context.setTarget(.app, id.rawValue, in: portfolio, "app:\(id)")
        return id.rawValue
    }
}
