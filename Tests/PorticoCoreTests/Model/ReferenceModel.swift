import PorticoCore

/// A deliberately naive model of docs/model.md: plain dictionaries and sets, closures by fixpoint, no
/// indexes, no persistence. The randomized test holds the core to it.
struct ReferenceModel {
    struct Principal {
        var portfolio: UInt64
        var admin: Bool
        var removed = false
    }

    struct Pair: Hashable {
        let a: UInt64
        let b: UInt64
    }

    var status: [UInt64: PortfolioStatus] = [:]
    var principals: [UInt64: Principal] = [:]
    var assets: [UInt64: (owner: UInt64, type: AssetType)] = [:]
    /// (principal, asset) -> closed tasks.
    var assignments: [Pair: Set<AssetTask>] = [:]
    /// (asset, partner) -> closed tasks.
    var shares: [Pair: Set<AssetTask>] = [:]
    /// (portfolio, partner it added): the owner may share with the partner.
    var partnerships: Set<Pair> = []

    // MARK: - The lattice, written again from docs/model.md

    static let valid: [AssetType: Set<AssetTask>] = [
        .adAccount: [.manage, .advertise, .draft, .analyze],
        .page: [.manage, .createContent, .moderate, .messaging, .advertise, .analyze],
        .catalog: [.manage, .advertise],
        .pixel: [.edit, .upload, .advertise, .analyze],
        .instagramAccount: [.content, .communityActivity, .messages, .advertise, .analyze],
        .whatsappBusinessAccount: [
            .manage, .manageTemplates, .viewTemplates, .managePhone, .managePhoneAssets,
            .viewPhoneAssets, .develop, .messaging, .manageExtensions, .viewCost,
        ],
    ]

    static let implies: [AssetType: [AssetTask: [AssetTask]]] = [
        .adAccount: [.manage: [.advertise], .advertise: [.draft, .analyze]],
        .page: [
            .manage: [.createContent], .createContent: [.moderate], .moderate: [.messaging, .advertise],
            .advertise: [.analyze],
        ],
        .catalog: [.manage: [.advertise]],
        .pixel: [.edit: [.upload, .advertise], .advertise: [.analyze]],
        .instagramAccount: [.advertise: [.analyze]],
        .whatsappBusinessAccount: [
            .manage: Array(valid[.whatsappBusinessAccount]!.subtracting([.manage])),
            .manageTemplates: [.viewTemplates], .managePhone: [.managePhoneAssets],
            .managePhoneAssets: [.viewPhoneAssets],
        ],
    ]

    static func closure(_ tasks: Set<AssetTask>, _ type: AssetType) -> Set<AssetTask> {
        var result = tasks
        var changed = true
        while changed {
            changed = false
            for task in result {
                for implied in implies[type]?[task] ?? [] where !result.contains(implied) {
                    result.insert(implied)
                    changed = true
                }
            }
        }
        return result
    }

    // MARK: - The check

    func check(_ principalID: UInt64, _ assetID: UInt64, _ task: AssetTask) -> DecisionReason {
        guard let principal = principals[principalID] else { return .principalNotFound }
        if principal.removed { return .principalRemoved }
        if status[principal.portfolio] == .disabled { return .portfolioDisabled }
        guard let asset = assets[assetID] else { return .assetNotFound }
        if asset.owner != principal.portfolio, status[asset.owner] == .disabled { return .ownerDisabled }
        if !Self.valid[asset.type]!.contains(task) { return .taskNotValidForAsset }
        let assigned = assignments[Pair(a: principalID, b: assetID)]
        if asset.owner == principal.portfolio {
            if principal.admin { return .adminRole }
            guard let assigned else { return .notAssigned }
            return assigned.contains(task) ? .assigned : .taskNotGranted
        }
        guard let shared = shares[Pair(a: assetID, b: principal.portfolio)] else { return .notShared }
        if !shared.contains(task) { return .taskNotShared }
        if principal.admin { return .sharedAdminRole }
        guard let assigned else { return .notAssigned }
        return assigned.contains(task) ? .sharedAssigned : .taskNotGranted
    }

    // MARK: - Changes, as the operator makes them; each returns the expected error code or nil

    func writable(_ portfolio: UInt64) -> String? { status[portfolio] == .disabled ? "FAILED_PRECONDITION" : nil }

    mutating func assign(_ principalID: UInt64, _ assetID: UInt64, _ tasks: Set<AssetTask>) -> String? {
        guard let principal = principals[principalID], !principal.removed else { return "NOT_FOUND" }
        if let error = writable(principal.portfolio) { return error }
        guard let asset = assets[assetID] else { return "NOT_FOUND" }
        // Another portfolio's asset not shared with the principal's: refused before its type is looked at.
        let shared = shares[Pair(a: assetID, b: principal.portfolio)]
        if asset.owner != principal.portfolio, shared == nil { return "PERMISSION_DENIED" }
        if tasks.isEmpty || !tasks.isSubset(of: Self.valid[asset.type]!) { return "INVALID_ARGUMENT" }
        let closed = Self.closure(tasks, asset.type)
        if asset.owner != principal.portfolio, let shared {
            if !closed.isSubset(of: shared) { return "PERMISSION_DENIED" }
            if let error = writable(asset.owner) { return error }
        }
        assignments[Pair(a: principalID, b: assetID)] = closed
        return nil
    }

    mutating func unassign(_ principalID: UInt64, _ assetID: UInt64) -> String? {
        guard let principal = principals[principalID], !principal.removed else { return "NOT_FOUND" }
        guard assignments[Pair(a: principalID, b: assetID)] != nil else { return "NOT_FOUND" }
        if let error = writable(principal.portfolio) { return error }
        assignments[Pair(a: principalID, b: assetID)] = nil
        return nil
    }

    mutating func share(_ assetID: UInt64, _ partner: UInt64, _ tasks: Set<AssetTask>) -> String? {
        guard let asset = assets[assetID] else { return "NOT_FOUND" }
        if let error = writable(asset.owner) { return error }
        if partner == asset.owner { return "INVALID_ARGUMENT" }
        if tasks.isEmpty || !tasks.isSubset(of: Self.valid[asset.type]!) { return "INVALID_ARGUMENT" }
        // The partnership before the partner: the operator alone learns that an id names no portfolio.
        if !partnerships.contains(Pair(a: asset.owner, b: partner)) {
            return status[partner] == nil ? "NOT_FOUND" : "FAILED_PRECONDITION"
        }
        if status[partner] == .disabled { return "FAILED_PRECONDITION" }
        let closed = Self.closure(tasks, asset.type)
        shares[Pair(a: assetID, b: partner)] = closed
        for (pair, held) in assignments where pair.b == assetID && principals[pair.a]?.portfolio == partner {
            let kept = held.intersection(closed)
            assignments[pair] = kept.isEmpty ? nil : kept
        }
        return nil
    }

    mutating func unshare(_ assetID: UInt64, _ partner: UInt64) -> String? {
        guard let asset = assets[assetID] else { return "NOT_FOUND" }
        guard shares[Pair(a: assetID, b: partner)] != nil else { return "NOT_FOUND" }
        if let error = writable(asset.owner) { return error }
        dropShare(assetID, partner)
        return nil
    }

    mutating func dropShare(_ assetID: UInt64, _ partner: UInt64) {
        shares[Pair(a: assetID, b: partner)] = nil
        for pair in assignments.keys where pair.b == assetID && principals[pair.a]?.portfolio == partner {
            assignments[pair] = nil
        }
    }

    mutating func addPartner(_ portfolio: UInt64, _ partner: UInt64) -> String? {
        guard status[portfolio] != nil, let partnerStatus = status[partner] else { return "NOT_FOUND" }
        if portfolio == partner { return "INVALID_ARGUMENT" }
        if let error = writable(portfolio) { return error }
        if partnerStatus == .disabled { return "FAILED_PRECONDITION" }
        guard partnerships.insert(Pair(a: portfolio, b: partner)).inserted else { return "ALREADY_EXISTS" }
        return nil
    }

    mutating func removePartner(_ portfolio: UInt64, _ partner: UInt64) -> String? {
        guard status[portfolio] != nil else { return "NOT_FOUND" }
        if let error = writable(portfolio) { return error }
        let made = [Pair(a: portfolio, b: partner), Pair(a: partner, b: portfolio)].filter(partnerships.contains)
        if made.isEmpty { return "NOT_FOUND" }
        let pairs = shares.keys.filter {
            (assets[$0.a]?.owner == portfolio && $0.b == partner)
                || (assets[$0.a]?.owner == partner && $0.b == portfolio)
        }
        for pair in pairs { dropShare(pair.a, pair.b) }
        partnerships.subtract(made)
        return nil
    }

    mutating func removePrincipal(_ principalID: UInt64) -> String? {
        guard let principal = principals[principalID], !principal.removed else { return "NOT_FOUND" }
        if let error = writable(principal.portfolio) { return error }
        principals[principalID]?.removed = true
        for pair in assignments.keys where pair.a == principalID { assignments[pair] = nil }
        return nil
    }

    mutating func removeAsset(_ assetID: UInt64) -> String? {
        guard let asset = assets[assetID] else { return "NOT_FOUND" }
        if let error = writable(asset.owner) { return error }
        assets[assetID] = nil
        for pair in assignments.keys where pair.b == assetID { assignments[pair] = nil }
        for pair in shares.keys where pair.a == assetID { shares[pair] = nil }
        return nil
    }

    mutating func setRole(_ principalID: UInt64, admin: Bool) -> String? {
        guard let principal = principals[principalID], !principal.removed else { return "NOT_FOUND" }
        if let error = writable(principal.portfolio) { return error }
        principals[principalID]?.admin = admin
        return nil
    }
}
