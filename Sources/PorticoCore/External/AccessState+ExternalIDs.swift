import HashTreeCollections
import PorticoReasons

/// External ids: validated and unique in their namespace when given, immutable once set, freed when
/// their entity goes (a removed principal, a removed asset).
extension AccessState {
    /// Fails unless `externalID` (if any) is well-formed and no entity of `kind` in `scope` has it.
    /// - Throws: INVALID_ARGUMENT (`INVALID_EXTERNAL_ID`), ALREADY_EXISTS (`EXTERNAL_ID_TAKEN`).
    func requireFreeExternalID(_ externalID: String?, _ kind: ExternalKind, in scope: UInt64) throws {
        guard let externalID else { return }
        try ExternalID.validate(externalID)
        guard checkIndex.resolve(kind, in: scope, externalID) == nil else {
            let place = kind == .portfolio ? "among portfolios" : "in portfolio \(scope)"
            throw PorticoError(.alreadyExists, "another \(kind.name) has external id \"\(externalID)\" \(place)",
                               reason: .externalIDTaken)
        }
    }

    /// Makes `externalID` (if any) name `id`; the caller checked it with `requireFreeExternalID`.
    mutating func bindExternalID(_ externalID: String?, _ kind: ExternalKind, in scope: UInt64, to id: UInt64,
                                 _ context: inout ApplyContext) {
        guard let externalID else { return }
        checkIndex.externalIDs.insert(ExternalIndex.Key(kind, in: scope, externalID), id)
        context.note("external_id \(externalID)")
    }

    /// Frees `externalID` (if any) for another entity of its kind.
    mutating func unbindExternalID(_ externalID: String?, _ kind: ExternalKind, in scope: UInt64) {
        guard let externalID else { return }
        checkIndex.externalIDs.remove(ExternalIndex.Key(kind, in: scope, externalID))
    }

    /// Gives an entity that has none its external id.
    mutating func setExternalID(_ kind: ExternalKind, _ id: UInt64, _ externalID: String,
                                _ context: inout ApplyContext) throws {
        func requireUnset(_ current: String?) throws {
            guard let current else { return }
            throw PorticoError.precondition(
                "\(kind.name) \(id) has external id \"\(current)\" already; external ids never change",
                reason: .externalIDImmutable)
        }
        switch kind {
        case .portfolio:
            try requireOperator(context.caller)
            var record = try portfolioRecord(PortfolioID(id))
            try requireUnset(record.externalID)
            try requireFreeExternalID(externalID, kind, in: 0)
            record.externalID = externalID
            portfolios[record.id] = record
            bindExternalID(externalID, kind, in: 0, to: id, &context)
            context.setTarget(.portfolio, id, in: record.id, "portfolio:\(id)")
        case .person, .systemUser:
            var record = try principalToChange(PrincipalID(id), context)
            try requireKind(record.id, kind == .person ? .person : .systemUser)
            try requireWritable(record.portfolio, context.caller, grows: false)
            try requireUnset(record.externalID)
            try requireFreeExternalID(externalID, kind, in: record.portfolio.rawValue)
            record.externalID = externalID
            principals[record.id] = record
            bindExternalID(externalID, kind, in: record.portfolio.rawValue, to: id, &context)
            context.setTarget(kind == .person ? .person : .systemUser, id, in: record.portfolio,
                              "\(kind == .person ? "person" : "system_user"):\(id)")
        case .app:
            guard var record = apps[AppID(id)] else {
                try requireAdmin(of: Self.nowhere, context.caller, now: context.now)
                throw PorticoError.notFound("app \(id)")
            }
            try requireAdmin(of: record.portfolio, context.caller, now: context.now)
            try requireWritable(record.portfolio, context.caller, grows: false)
            try requireUnset(record.externalID)
            try requireFreeExternalID(externalID, kind, in: record.portfolio.rawValue)
            record.externalID = externalID
            apps[record.id] = record
            bindExternalID(externalID, kind, in: record.portfolio.rawValue, to: id, &context)
            context.setTarget(.app, id, in: record.portfolio, "app:\(id)")
        case .asset:
            var record = try assetToChange(AssetID(id), context)
            try requireWritable(record.owner, context.caller, grows: false)
            try requireUnset(record.externalID)
            try requireFreeExternalID(externalID, kind, in: record.owner.rawValue)
            record.externalID = externalID
            assets[record.id] = record
            bindExternalID(externalID, kind, in: record.owner.rawValue, to: id, &context)
            context.setTarget(.asset, id, in: record.owner, "asset:\(id)")
        }
    }
}
