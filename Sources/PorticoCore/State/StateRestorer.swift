import HashTreeCollections
import PorticoReasons

/// Rebuilds an `AccessState` from its records, as a checkpoint holds them, deriving every index (the
/// check index, members, assignees, shares by partner, partnerships by partner, tokens by principal)
/// exactly as the changes that made the records would have.
///
/// Records are added kind by kind: portfolios, then assets (a principal's grants need their types),
/// then the rest in any order. `finish()` checks what a damaged or inconsistent checkpoint would break.
public struct StateRestorer {
    private var state = AccessState()
    /// Every (asset, principal) assignment, appended in arrival order and grouped by asset (a counting
    /// sort) into the `assignees` hash trees at the end: one tree insertion per asset, where inserting
    /// each assignment walked a tree path (most of a million-assignment load), and sequential writes,
    /// where an array per asset missed the cache on every append.
    private var assignments: [(asset: UInt64, principal: PrincipalID)] = []

    /// A restorer for the state at `revision`, whose next id is `nextID`.
    public init(revision: Revision, nextID: UInt64) {
        state.revision = revision
        state.nextID = nextID
    }

    /// The ids records may use: below `nextID`.
    private func check(_ id: UInt64, _ what: String) throws {
        guard id > 0, id < state.nextID else { throw Self.invalid("\(what) \(id) is not an id handed out") }
    }

    private static func invalid(_ message: String) -> PorticoError {
        PorticoError(.internal, "checkpoint: \(message)", reason: .checkpointInvalid)
    }

    public mutating func addPortfolio(
        id: PortfolioID, createdRevision: Revision, name: String, status: PortfolioStatus,
        tier: SystemUserTier, appCount: Int, adminSystemUsers: Int,
        regularSystemUsers: Int, externalID: String? = nil
    ) throws {
        try check(id.rawValue, "portfolio")
        state.portfolios[id] = PortfolioRecord(
            id: id, createdRevision: createdRevision, name: name, status: status,
            tier: tier, appCount: appCount, adminSystemUsers: adminSystemUsers,
            regularSystemUsers: regularSystemUsers, externalID: externalID)
        state.checkIndex.setStatus(id, status)
        try bind(externalID, .portfolio, in: 0, id.rawValue)
    }

    /// Indexes an external id, refusing one that is malformed or taken (a damaged checkpoint).
    private mutating func bind(_ externalID: String?, _ kind: ExternalKind, in scope: UInt64, _ id: UInt64) throws {
        guard let externalID else { return }
        let key = ExternalIndex.Key(kind, in: scope, externalID)
        guard ExternalID.isValid(externalID), state.checkIndex.externalIDs[key] == nil else {
            throw Self.invalid(
                "\(kind.name) \(id): external id \"\(ExternalID.printable(externalID))\" is malformed or taken")
        }
        state.checkIndex.externalIDs.insert(key, id)
    }

    /// An asset with the shares its owner granted (partner -> granted tasks).
    public mutating func addAsset(
        id: AssetID, owner: PortfolioID, type: AssetType, name: String,
        shares: [(PortfolioID, TaskSet)], externalID: String? = nil
    ) throws {
        try check(id.rawValue, "asset")
        guard state.checkIndex.status(owner) != nil else {
            throw Self.invalid("asset \(id) of unknown portfolio \(owner)")
        }
        var grants = TreeDictionary<PortfolioID, Grant>()
        for (partner, granted) in shares {
            let grant = Grant(granted: granted, type: type)
            grants[partner] = grant
            state.checkIndex.setShare(id, with: partner, grant.effective)
            state.sharedIn.insert(id, into: partner)
        }
        state.assets[id] = AssetRecord(
            id: id, owner: owner, type: type, name: name, shares: grants,
            externalID: externalID)
        state.checkIndex.setAsset(id, CheckIndex.Asset(owner: owner, type: type))
        state.ownedAssets.insert(id, into: owner)
        try bind(externalID, .asset, in: owner.rawValue, id.rawValue)
    }

    /// A person or system user with its assignments (asset -> granted tasks, and when each expires; closures
    /// are derived).
    public mutating func addPrincipal(
        id: PrincipalID, portfolio: PortfolioID, kind: PrincipalKindTag, role: Role,
        name: String, removed: Bool, grants: [(AssetID, TaskSet, Timestamp?)],
        externalID: String? = nil
    ) throws {
        try check(id.rawValue, "principal")
        // The check index's dense table answers "is it a portfolio" without hashing (as for asset types).
        guard state.checkIndex.status(portfolio) != nil else {
            throw Self.invalid("principal \(id) of unknown portfolio \(portfolio)")
        }
        var entries: [(asset: UInt64, grant: Grant)] = []
        entries.reserveCapacity(grants.count)
        var expiring: [(CheckIndex.Pair, Timestamp)] = []
        for (asset, granted, expiry) in grants {
            // The check index's dense table: two array loads, where the asset records' tree would hash.
            guard let type = state.checkIndex.asset(asset)?.type else {
                throw Self.invalid("principal \(id) holds unknown asset \(asset)")
            }
            entries.append((asset.rawValue, Grant(granted: granted, type: type, expiresAt: expiry ?? .never)))
            assignments.append((asset.rawValue, id))
            if let expiry { expiring.append((CheckIndex.Pair(id.rawValue, asset.rawValue), expiry)) }
        }
        if !expiring.isEmpty {
            for (pair, expiry) in expiring { state.expiring[portfolio, default: [:]][pair] = expiry }
        }
        entries.sort { $0.asset < $1.asset }
        let list = AssignmentList(sorted: entries)
        state.principals[id] = PrincipalRecord(
            id: id, portfolio: portfolio, kind: kind, role: role, name: name,
            removed: removed, grants: list, externalID: externalID)
        state.checkIndex.addPrincipal(id, portfolio: portfolio, kind: kind, role: role)
        state.checkIndex.updatePrincipal(id) { $0.removed = removed }
        state.checkIndex.setAssignments(id, list)
        if !removed {
            state.members.insert(id, into: portfolio)
            // A removed principal keeps its external id in its record but not in the index.
            try bind(externalID, ExternalKind(kind), in: portfolio.rawValue, id.rawValue)
        }
    }

    public mutating func addApp(
        id: AppID, portfolio: PortfolioID, name: String, secretDigest: SecretDigest,
        externalID: String? = nil
    ) throws {
        try check(id.rawValue, "app")
        state.apps[id] = AppRecord(
            id: id, portfolio: portfolio, name: name, secretDigest: secretDigest,
            externalID: externalID)
        try bind(externalID, .app, in: portfolio.rawValue, id.rawValue)
    }

    /// An idempotency key the state remembers.
    public mutating func addIdempotencyKey(_ digest: IdempotencyDigest, _ entry: IdempotencyTable.Entry) throws {
        guard entry.revision >= 1, entry.revision <= state.revision else {
            throw Self.invalid("an idempotency key of revision \(entry.revision), beyond \(state.revision)")
        }
        state.idempotency.restore(digest, entry)
    }

    public mutating func addToken(
        id: TokenID, principal: PrincipalID, portfolio: PortfolioID, app: AppID,
        scopes: ScopeSet, createdAt: Timestamp, expiresAt: Timestamp?, revoked: Bool,
        secretDigest: SecretDigest
    ) throws {
        try check(id.rawValue, "token")
        state.tokens[id] = TokenRecord(
            id: id, principal: principal, portfolio: portfolio, app: app, scopes: scopes,
            coverage: ScopeCoverage(scopes), createdAt: createdAt, expiresAt: expiresAt,
            revoked: revoked, secretDigest: secretDigest)
        state.principalTokens.insert(id, into: principal)
    }

    public mutating func addCredential(
        id: CredentialID, name: String, createdAt: Timestamp, revoked: Bool,
        secretDigest: SecretDigest
    ) throws {
        try check(id.rawValue, "service credential")
        state.credentials[id] = CredentialRecord(
            id: id, name: name, createdAt: createdAt, revoked: revoked,
            secretDigest: secretDigest)
    }

    public mutating func addPartnership(portfolio: PortfolioID, partner: PortfolioID, createdRevision: Revision) {
        state.partnerships[portfolio, default: [:]][partner] = PartnershipRecord(
            portfolio: portfolio, partner: partner,
            createdRevision: createdRevision)
        state.partneredBy.insert(portfolio, into: partner)
    }

    public mutating func addShareRequest(
        id: ShareRequestID, asset: AssetID, requester: PortfolioID, tasks: TaskSet,
        status: ShareRequestStatus
    ) throws {
        try check(id.rawValue, "share request")
        state.shareRequests[id] = ShareRequestRecord(
            id: id, asset: asset, requester: requester, tasks: tasks,
            status: status)
    }

    /// The next chunk of audit events, as `AuditLog.chunks` gave it.
    public mutating func addAuditChunk(first: Revision, events: [UInt8], ends: [UInt32]) throws {
        guard first == Revision(state.audit.count) + 1 else {
            throw Self.invalid("audit events from \(first) follow \(state.audit.count)")
        }
        guard state.audit.restore(events: events, ends: ends) else {
            throw Self.invalid("audit events from \(first) are not whole chunks")
        }
    }

    /// The state, once every record is in.
    /// - Throws: INTERNAL (`CHECKPOINT_INVALID`) when the audit log does not reach the revision.
    public consuming func finish() throws -> AccessState {
        guard state.audit.count == Int(state.revision) else {
            throw Self.invalid("\(state.audit.count) audit events for revision \(state.revision)")
        }
        // Counting sort by asset: counts, then where each asset's run starts, then the principals in place.
        var starts = [Int](repeating: 0, count: Int(state.nextID) + 1)
        for (asset, _) in assignments { starts[Int(asset) + 1] += 1 }
        for index in 1..<starts.count { starts[index] += starts[index - 1] }
        var next = starts
        var grouped = [PrincipalID](repeating: PrincipalID(0), count: assignments.count)
        for (asset, principal) in assignments {
            grouped[next[Int(asset)]] = principal
            next[Int(asset)] += 1
        }
        assignments = []
        for asset in 0..<Int(state.nextID) where starts[asset + 1] > starts[asset] {
            state.assignees[AssetID(UInt64(asset))] = TreeSet(grouped[starts[asset]..<starts[asset + 1]])
        }
        return state
    }
}
