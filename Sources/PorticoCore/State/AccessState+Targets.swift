import HashTreeCollections
import PorticoReasons

/// Finding what a change acts on, with "who may call what" decided before "does it exist": a caller who
/// may not change an entity gets the same answer whether it exists or not (docs/model.md, "What an
/// outsider learns"). Only a caller who could change it if it existed (the operator, or the admin of its
/// portfolio) is told that it does not.
extension AccessState {
    /// The portfolio no one administers (ids start at 1): an id that names nothing is measured against
    /// it, so that its answer is the one an entity of another portfolio gets.
    static let nowhere = PortfolioID(0)

    /// The portfolio a change adds to, for a caller who administers it.
    func portfolioToChange(_ id: PortfolioID, _ context: ApplyContext) throws -> PortfolioRecord {
        try requireAdmin(of: id, context.caller, now: context.now)
        return try portfolioRecord(id)
    }

    /// The principal a change acts on, for a caller who administers its portfolio; NOT_FOUND for a
    /// removed one, which its portfolio's admins still know of.
    func principalToChange(_ id: PrincipalID, _ context: ApplyContext) throws -> PrincipalRecord {
        guard let record = principals[id] else {
            try requireAdmin(of: Self.nowhere, context.caller, now: context.now)
            throw PorticoError.notFound("principal \(id)")
        }
        try requireAdmin(of: record.portfolio, context.caller, now: context.now)
        guard !record.removed else { throw PorticoError.notFound("principal \(id)") }
        return record
    }

    /// The asset a change of its owner acts on, for a caller who administers the owner.
    func assetToChange(_ id: AssetID, _ context: ApplyContext) throws -> AssetRecord {
        guard let record = assets[id] else {
            try requireAdmin(of: Self.nowhere, context.caller, now: context.now)
            throw PorticoError.notFound("asset \(id)")
        }
        try requireAdmin(of: record.owner, context.caller, now: context.now)
        return record
    }

    /// The token a change acts on, for a caller who administers its portfolio.
    func tokenToChange(_ id: TokenID, _ context: ApplyContext) throws -> TokenRecord {
        guard let record = tokens[id] else {
            try requireAdmin(of: Self.nowhere, context.caller, now: context.now)
            throw PorticoError.notFound("token \(id)")
        }
        try requireAdmin(of: record.portfolio, context.caller, now: context.now)
        return record
    }

    /// The share request the owner's admin decides, and its asset.
    func shareRequestToDecide(_ id: ShareRequestID, _ context: ApplyContext) throws
        -> (ShareRequestRecord, AssetRecord)
    {
        guard let request = shareRequests[id], let asset = assets[request.asset] else {
            try requireAdmin(of: Self.nowhere, context.caller, now: context.now)
            throw PorticoError.notFound("share request \(id)")
        }
        try requireAdmin(of: asset.owner, context.caller, now: context.now)
        return (request, asset)
    }

    /// The asset `principal` is assigned on: its portfolio's own, or one shared with it. Any other, and
    /// an id that names no asset, is NOT_SHARED alike (NOT_FOUND for the operator), so that an admin
    /// learns nothing of another portfolio's assets, their type included.
    func assetToAssign(_ id: AssetID, to principal: PrincipalRecord, _ context: ApplyContext) throws -> AssetRecord {
        if let asset = assets[id], asset.owner == principal.portfolio || asset.shares[principal.portfolio] != nil {
            return asset
        }
        if assets[id] == nil, context.caller == .operator { throw PorticoError.notFound("asset \(id)") }
        throw PorticoError(
            .permissionDenied, "asset \(id) is not shared with portfolio \(principal.portfolio)",
            reason: .notShared, meta: .permission)
    }
}
