import HashTreeCollections
import PorticoReasons

/// Partner shares and share requests. Every one of these touches two portfolios, and runs as one
/// change against one state, so the cascade and the share it follows commit or fail together.
extension AccessState {
    /// Shares (or re-shares) an asset with a partner; only an admin of the owner may, so a partner
    /// can never relay an asset it was shared.
    mutating func share(
        _ assetID: AssetID, with partner: PortfolioID, _ tasks: TaskSet,
        _ context: inout ApplyContext
    ) throws {
        let asset = try assetToChange(assetID, context)
        try requireWritable(asset.owner, context.caller, grows: true)
        guard partner != asset.owner else {
            throw PorticoError.invalid("a portfolio cannot share with itself", reason: .selfShare)
        }
        try validateTasks(tasks, for: asset.type)
        // The partnership before the partner itself: an id that names no portfolio is NOT_PARTNER like
        // any portfolio the owner has not added (NOT_FOUND for the operator alone).
        guard partnerships[asset.owner]?[partner] != nil else {
            if portfolios[partner] == nil, context.caller == .operator {
                throw PorticoError.notFound("portfolio \(partner)")
            }
            throw PorticoError.precondition(
                "portfolio \(asset.owner) has not added portfolio \(partner) as a partner",
                reason: .notPartner)
        }
        try requireSharePartner(partner, of: asset)
        setShare(asset, partner, tasks, &context)
        context.setTarget(.share, assetID.rawValue, in: asset.owner, "asset:\(assetID) portfolio:\(partner)")
    }

    mutating func unshare(_ assetID: AssetID, from partner: PortfolioID, _ context: inout ApplyContext) throws {
        let asset = try assetToChange(assetID, context)
        guard asset.shares[partner] != nil else {
            throw PorticoError.notFound("share of asset \(assetID) with portfolio \(partner)")
        }
        try requireWritable(asset.owner, context.caller, grows: false)
        removeShare(assetID, partner, &context)
        context.setTarget(.share, assetID.rawValue, in: asset.owner, "asset:\(assetID) portfolio:\(partner)")
    }

    /// Takes `partner` as a partner of `portfolio`, which may then share its assets with it.
    mutating func addPartner(_ portfolio: PortfolioID, partner: PortfolioID, _ context: inout ApplyContext) throws {
        _ = try portfolioToChange(portfolio, context)
        // Partnering names another portfolio by id; whether it exists is no secret to the caller.
        let other = try portfolioRecord(partner)
        guard partner != portfolio else {
            throw PorticoError.invalid("a portfolio cannot be its own partner", reason: .selfPartner)
        }
        try requireWritable(portfolio, context.caller, grows: true)
        guard other.status != .disabled else {
            throw PorticoError.precondition("portfolio \(partner) is disabled", reason: .portfolioDisabled)
        }
        guard partnerships[portfolio]?[partner] == nil else {
            throw PorticoError(
                .alreadyExists, "portfolio \(portfolio) already has portfolio \(partner) as a partner",
                reason: .alreadyPartner)
        }
        insertPartnership(portfolio, partner, &context)
        context.setTarget(.partner, partner.rawValue, in: portfolio, "portfolio:\(portfolio) partner:\(partner)")
    }

    /// Ends a partnership, whichever of the two made it (or both): every share between the two
    /// portfolios, both ways, goes with the assignments on them.
    mutating func removePartner(_ portfolio: PortfolioID, partner: PortfolioID, _ context: inout ApplyContext) throws {
        _ = try portfolioToChange(portfolio, context)
        // No lookup of `partner` itself: with no partnership either way, an id that names no portfolio
        // and one that names a stranger get the same NOT_FOUND.
        try requireWritable(portfolio, context.caller, grows: false)
        guard partnerships[portfolio]?[partner] != nil || partnerships[partner]?[portfolio] != nil else {
            throw PorticoError.notFound("partnership between portfolio \(portfolio) and \(partner)")
        }
        var pairs: [(AssetID, PortfolioID)] = []
        for asset in sharedIn[partner] ?? [] where assets[asset]?.owner == portfolio { pairs.append((asset, partner)) }
        for asset in sharedIn[portfolio] ?? [] where assets[asset]?.owner == partner {
            pairs.append((asset, portfolio))
        }
        for (asset, holder) in pairs.sorted(by: { $0.0 < $1.0 }) {
            removeShare(asset, holder, &context)
            context.note("unshared asset:\(asset) from portfolio:\(holder)")
        }
        for (adder, added) in [(portfolio, partner), (partner, portfolio)] where partnerships[adder]?[added] != nil {
            partnerships[adder]?[added] = nil
            if partnerships[adder]?.isEmpty == true { partnerships[adder] = nil }
            partneredBy.remove(adder, from: added)
            context.note("removed partnership portfolio:\(adder) partner:\(added)")
        }
        context.setTarget(.partner, partner.rawValue, in: portfolio, "portfolio:\(portfolio) partner:\(partner)")
    }

    mutating func requestShare(
        _ assetID: AssetID, by requester: PortfolioID, _ tasks: TaskSet,
        _ context: inout ApplyContext
    ) throws -> UInt64 {
        _ = try portfolioToChange(requester, context)
        // A request goes to the asset's owner, so it tells its caller that the id names an asset (and,
        // through INVALID_TASK, whether the tasks suit its type); never who owns it (docs/model.md).
        let asset = try assetRecord(assetID)
        try requireWritable(requester, context.caller, grows: true)
        try requireSharePartner(requester, of: asset)
        try validateTasks(tasks, for: asset.type)
        if shareRequests.values.contains(where: {
            $0.asset == assetID && $0.requester == requester && $0.status == .pending
        }) {
            throw PorticoError(
                .alreadyExists, "a request for asset \(assetID) is already pending",
                reason: .requestPending)
        }
        let id = ShareRequestID(takeID())
        shareRequests[id] = ShareRequestRecord(
            id: id, asset: assetID, requester: requester, tasks: tasks,
            status: .pending)
        context.setTarget(.shareRequest, id.rawValue, in: requester, "share_request:\(id)")
        return id.rawValue
    }

    /// Approves (creating the share) or declines a pending request; only the owner's admin decides.
    mutating func decideShareRequest(_ id: ShareRequestID, approve: Bool, _ context: inout ApplyContext) throws {
        let (decided, asset) = try shareRequestToDecide(id, context)
        var request = decided
        guard request.status == .pending else {
            throw PorticoError.precondition(
                "share request \(id) is already \(request.status.rawValue)",
                reason: .requestDecided)
        }
        if approve {
            try requireWritable(asset.owner, context.caller, grows: true)
            try requireSharePartner(request.requester, of: asset)
            // Approving is the owner's consent to share with the requester: it makes the partnership
            // a share needs when the owner has not made it yet.
            if partnerships[asset.owner]?[request.requester] == nil {
                insertPartnership(asset.owner, request.requester, &context)
                context.note("added partner portfolio:\(request.requester)")
            }
            setShare(asset, request.requester, request.tasks, &context)
        }
        request.status = approve ? .approved : .declined
        shareRequests[id] = request
        context.setTarget(.shareRequest, id.rawValue, in: asset.owner, "share_request:\(id)")
    }

    private func requireSharePartner(_ partner: PortfolioID, of asset: AssetRecord) throws {
        let record = try portfolioRecord(partner)
        guard partner != asset.owner else {
            throw PorticoError.invalid("a portfolio cannot share with itself", reason: .selfShare)
        }
        guard record.status != .disabled else {
            throw PorticoError.precondition("portfolio \(partner) is disabled", reason: .portfolioDisabled)
        }
    }

    private mutating func insertPartnership(
        _ portfolio: PortfolioID, _ partner: PortfolioID,
        _ context: inout ApplyContext
    ) {
        partnerships[portfolio, default: [:]][partner] = PartnershipRecord(
            portfolio: portfolio, partner: partner,
            createdRevision: context.revision)
        partneredBy.insert(portfolio, into: partner)
    }

    /// Writes the share and trims the partner's assignments on the asset to what it now permits.
    private mutating func setShare(
        _ asset: AssetRecord, _ partner: PortfolioID, _ tasks: TaskSet,
        _ context: inout ApplyContext
    ) {
        let grant = Grant(granted: tasks, type: asset.type)
        assets[asset.id]?.shares[partner] = grant
        checkIndex.setShare(asset.id, with: partner, grant.effective)
        sharedIn.insert(asset.id, into: partner)
        for principalID in assignees[asset.id] ?? [] {
            guard var principal = principals[principalID], principal.portfolio == partner,
                let held = principal.grants[asset.id], !grant.effective.isSuperset(of: held.effective)
            else { continue }
            let kept = held.effective.intersection(grant.effective)
            if kept.isEmpty {
                noteExpiry(principalID, asset.id, nil, was: held)
                principal.grants[asset.id] = nil
                assignees.remove(principalID, from: asset.id)
                context.note("unassigned principal:\(principalID)")
            } else {
                // The trimmed assignment keeps its expiry.
                principal.grants[asset.id] = Grant(granted: kept, effective: kept, expiresAt: held.expiresAt)
                context.note("trimmed principal:\(principalID) to \(kept)")
            }
            principals[principalID] = principal
            checkIndex.setAssignments(principalID, principal.grants)
        }
    }

    /// Drops the share and every assignment the partner's principals hold on the asset.
    private mutating func removeShare(_ assetID: AssetID, _ partner: PortfolioID, _ context: inout ApplyContext) {
        assets[assetID]?.shares[partner] = nil
        checkIndex.setShare(assetID, with: partner, nil)
        sharedIn.remove(assetID, from: partner)
        for principalID in assignees[assetID] ?? [] where principals[principalID]?.portfolio == partner {
            noteExpiry(principalID, assetID, nil, was: principals[principalID]?.grants[assetID])
            principals[principalID]?.grants[assetID] = nil
            assignees.remove(principalID, from: assetID)
            checkIndex.setAssignments(principalID, principals[principalID]?.grants ?? .empty)
            context.note("unassigned principal:\(principalID)")
        }
    }
}

/// Partnerships as lookups read them.
extension AccessState {
    /// The partnership `portfolio` made with `partner`, if it made one (the one `share` requires).
    public func partnership(_ portfolio: PortfolioID, partner: PortfolioID) -> PartnershipRecord? {
        partnerships[portfolio]?[partner]
    }
}
