import HashTreeCollections
import PorticoReasons

/// Assets and assignments.
extension AccessState {
    mutating func addAsset(_ portfolio: PortfolioID, type: AssetType, name: String, externalID: String?,
                           _ context: inout ApplyContext) throws -> UInt64 {
        _ = try portfolioToChange(portfolio, context)
        try requireWritable(portfolio, context.caller, grows: true)
        try validateName(name, context)
        try requireFreeExternalID(externalID, .asset, in: portfolio.rawValue)
        let id = AssetID(takeID())
        assets[id] = AssetRecord(id: id, owner: portfolio, type: type, name: name, shares: [:], externalID: externalID)
        checkIndex.setAsset(id, CheckIndex.Asset(owner: portfolio, type: type))
        bindExternalID(externalID, .asset, in: portfolio.rawValue, to: id.rawValue, &context)
        ownedAssets.insert(id, into: portfolio)
        context.setTarget(.asset, id.rawValue, in: portfolio, "asset:\(id)")
        return id.rawValue
    }

    /// Removes an asset with its assignments, shares and share requests.
    mutating func removeAsset(_ id: AssetID, _ context: inout ApplyContext) throws {
        let asset = try assetToChange(id, context)
        try requireWritable(asset.owner, context.caller, grows: false)
        for principal in assignees[id] ?? [] {
            noteExpiry(principal, id, nil, was: principals[principal]?.grants[id])
            principals[principal]?.grants[id] = nil
            checkIndex.setAssignments(principal, principals[principal]?.grants ?? .empty)
            context.note("unassigned principal:\(principal)")
        }
        assignees[id] = nil
        for (partner, _) in asset.shares {
            sharedIn.remove(id, from: partner)
            checkIndex.setShare(id, with: partner, nil)
            context.note("unshared from portfolio:\(partner)")
        }
        for (requestID, request) in shareRequests where request.asset == id {
            shareRequests[requestID] = nil
            context.note("dropped share_request:\(requestID)")
        }
        ownedAssets.remove(id, from: asset.owner)
        assets[id] = nil
        checkIndex.setAsset(id, nil)
        unbindExternalID(asset.externalID, .asset, in: asset.owner.rawValue)
        context.setTarget(.asset, id.rawValue, in: asset.owner, "asset:\(id)")
    }

    /// Sets the tasks of `principal` on `asset` (replacing any earlier grant), until `expiresAt` if given.
    ///
    /// Only an admin of the principal's portfolio assigns. On a partner's asset the tasks, closed,
    /// must stay within what the owner shared: a partner cannot exceed the share.
    mutating func assign(_ principalID: PrincipalID, _ assetID: AssetID, _ tasks: TaskSet, expiresAt: Timestamp?,
                         _ context: inout ApplyContext) throws {
        var principal = try principalToChange(principalID, context)
        try requireWritable(principal.portfolio, context.caller, grows: true)
        // An asset neither owned by nor shared with the principal's portfolio is refused before its
        // type is looked at: the answer tells an admin nothing of another portfolio's assets.
        let asset = try assetToAssign(assetID, to: principal, context)
        try validateTasks(tasks, for: asset.type)
        if let expiresAt {
            // Validated against the change's own time, so that replay (whose clock is the stored time)
            // decides as the live change did.
            guard expiresAt > context.now, expiresAt < .never else {
                throw PorticoError.invalid(
                    "an assignment's expiry (\(expiresAt.iso8601)) must be after now (\(context.now.iso8601))",
                    reason: .invalidExpiry)
            }
        }
        let grant = Grant(granted: tasks, type: asset.type, expiresAt: expiresAt ?? .never)
        if asset.owner != principal.portfolio, let share = asset.shares[principal.portfolio] {
            guard share.effective.isSuperset(of: grant.effective) else {
                throw PorticoError(.permissionDenied, "\(tasks) exceeds what the owner shared (\(share.granted))",
                                   reason: .exceedsShare, meta: .permission)
            }
            try requireWritable(asset.owner, context.caller, grows: true)
        }
        noteExpiry(principalID, assetID, grant, was: principal.grants[assetID])
        principal.grants[assetID] = grant
        principals[principalID] = principal
        checkIndex.setAssignments(principalID, principal.grants)
        assignees.insert(principalID, into: assetID)
        context.setTarget(.assignment, principalID.rawValue, in: principal.portfolio,
                          "principal:\(principalID) asset:\(assetID)")
        context.note("tasks \(tasks)")
        if let expiresAt { context.note("expires \(expiresAt.iso8601)") }
    }

    mutating func unassign(_ principalID: PrincipalID, _ assetID: AssetID, _ context: inout ApplyContext) throws {
        var principal = try principalToChange(principalID, context)
        guard principal.grants[assetID] != nil else {
            throw PorticoError.notFound("assignment of principal \(principalID) on asset \(assetID)")
        }
        try requireWritable(principal.portfolio, context.caller, grows: false)
        noteExpiry(principalID, assetID, nil, was: principal.grants[assetID])
        principal.grants[assetID] = nil
        principals[principalID] = principal
        checkIndex.setAssignments(principalID, principal.grants)
        assignees.remove(principalID, from: assetID)
        context.setTarget(.assignment, principalID.rawValue, in: principal.portfolio,
                          "principal:\(principalID) asset:\(assetID)")
    }
}
