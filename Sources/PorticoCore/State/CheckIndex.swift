public import HashTreeCollections

/// What a check reads, as plain values: entities in a dense table indexed by id (a read is two array
/// loads), shares in a hash tree with a cheap id hash. A check copies out a few words and at most one
/// reference (the principal's assignment list, whose cache lines it reads next anyway).
///
/// Derived from the records and kept beside them by the same writes (one `CheckIndex` mutation per
/// record change); `AccessState` equality covers it, and the tests' state invariants compare it with
/// the records after every change.
public struct CheckIndex: Hashable, Sendable {
    /// A principal as the check sees it, with its assignments (asset -> closure).
    public struct Principal: Hashable, Sendable {
        public let portfolio: PortfolioID
        public let kind: PrincipalKindTag
        public var role: Role
        public var removed: Bool
        public internal(set) var assignments = AssignmentList.empty
    }

    /// An asset as the check sees it.
    public struct Asset: Hashable, Sendable {
        public let owner: PortfolioID
        public let type: AssetType
    }

    /// Two ids as one key: (asset, partner) for shares.
    public struct Pair: Hashable, Sendable {
        public let first: UInt64
        public let second: UInt64

        @inlinable
        public init(_ first: UInt64, _ second: UInt64) {
            self.first = first
            self.second = second
        }

        /// The same cheap mix as the ids themselves (see `EntityID._rawHashValue(seed:)`).
        @inlinable
        public func _rawHashValue(seed: Int) -> Int {
            Int(truncatingIfNeeded: IDHash.mix(IDHash.mix(first ^ UInt64(truncatingIfNeeded: seed)) &+ second))
        }
    }

    /// What one id names, for the kinds a check reads.
    enum Fact: Hashable, Sendable {
        case portfolio(PortfolioStatus)
        case principal(Principal)
        case asset(Asset)
    }

    private var facts = DenseTable<Fact>()
    /// (asset, partner portfolio) -> the closure of the share.
    public internal(set) var shares = TreeDictionary<Pair, TaskSet>()
    /// How many assignments the principals hold.
    public private(set) var assignmentCount = 0
    /// External id -> entity id, every kind (a check by external id resolves through it first).
    public internal(set) var externalIDs = ExternalIndex()

    public init() {}

    @inline(__always)
    public func principal(_ id: PrincipalID) -> Principal? {
        if case .principal(let principal)? = facts[id.rawValue] { return principal }
        return nil
    }

    @inline(__always)
    public func asset(_ id: AssetID) -> Asset? {
        if case .asset(let asset)? = facts[id.rawValue] { return asset }
        return nil
    }

    @inline(__always)
    public func status(_ id: PortfolioID) -> PortfolioStatus? {
        if case .portfolio(let status)? = facts[id.rawValue] { return status }
        return nil
    }

    /// The closure of `principal`'s assignment on `asset`, if it holds one that is live at `now`.
    public func assignment(_ principal: PrincipalID, _ asset: AssetID, now: Timestamp) -> TaskSet? {
        guard let grant = self.principal(principal)?.assignments[asset], grant.isLive(at: now) else { return nil }
        return grant.effective
    }

    /// The id of the entity of `kind` whose external id in `scope` (its portfolio; 0 for portfolios) is
    /// `externalID`, if there is one.
    public func resolve(_ kind: ExternalKind, in scope: UInt64, _ externalID: String) -> UInt64? {
        externalIDs.id(kind, in: scope, externalID)
    }

    /// The closure of what `asset`'s owner shared with `partner`, if it shared it.
    @inlinable
    public func share(_ asset: AssetID, with partner: PortfolioID) -> TaskSet? {
        shares[Pair(asset.rawValue, partner.rawValue)]
    }

    /// Entities the index holds (principals, assets and portfolios).
    public var entityCount: Int { facts.count }

    mutating func setStatus(_ id: PortfolioID, _ status: PortfolioStatus) {
        facts.update(id.rawValue) { $0 = .portfolio(status) }
    }

    mutating func addPrincipal(_ id: PrincipalID, portfolio: PortfolioID, kind: PrincipalKindTag, role: Role) {
        facts.update(id.rawValue) {
            $0 = .principal(Principal(portfolio: portfolio, kind: kind, role: role, removed: false))
        }
    }

    /// Changes a principal in place (its assignment list is not copied when nothing else shares it).
    mutating func updatePrincipal(_ id: PrincipalID, _ body: (inout Principal) -> Void) {
        facts.update(id.rawValue) { fact in
            guard case .principal(var principal)? = fact else { return }
            fact = nil
            body(&principal)
            fact = .principal(principal)
        }
    }

    mutating func setAsset(_ id: AssetID, _ asset: Asset?) {
        facts.update(id.rawValue) { $0 = asset.map(Fact.asset) }
    }

    /// Takes the principal's assignments from its record (the same list value, so the storage is shared).
    mutating func setAssignments(_ principal: PrincipalID, _ assignments: AssignmentList) {
        var change = 0
        updatePrincipal(principal) { record in
            change = assignments.count - record.assignments.count
            record.assignments = assignments
        }
        assignmentCount += change
    }

    mutating func setShare(_ asset: AssetID, with partner: PortfolioID, _ tasks: TaskSet?) {
        shares[Pair(asset.rawValue, partner.rawValue)] = tasks
    }
}
