public import HashTreeCollections

/// What a check reads, as plain values in maps keyed by id: no strings, no nested collections, so a
/// check copies out a few words and retains nothing.
///
/// Derived from the records and kept beside them by the same writes (one `CheckIndex` mutation per
/// record change); `AccessState` equality covers it, and the tests' state invariants compare it with
/// the records after every change.
public struct CheckIndex: Hashable, Sendable {
    /// A principal as the check sees it.
    public struct Principal: Hashable, Sendable {
        public let portfolio: PortfolioID
        public let kind: PrincipalKindTag
        public var role: Role
        public var removed: Bool
    }

    /// An asset as the check sees it.
    public struct Asset: Hashable, Sendable {
        public let owner: PortfolioID
        public let type: AssetType
    }

    /// Two ids as one key: (principal, asset) for assignments, (asset, partner) for shares.
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

    public internal(set) var principals = TreeDictionary<PrincipalID, Principal>()
    public internal(set) var assets = TreeDictionary<AssetID, Asset>()
    /// Every portfolio's status.
    public internal(set) var statuses = TreeDictionary<PortfolioID, PortfolioStatus>()
    /// (principal, asset) -> the closure of the assignment.
    public internal(set) var assignments = TreeDictionary<Pair, TaskSet>()
    /// (asset, partner portfolio) -> the closure of the share.
    public internal(set) var shares = TreeDictionary<Pair, TaskSet>()

    public init() {}

    /// The closure of `principal`'s assignment on `asset`, if it holds one.
    @inlinable
    public func assignment(_ principal: PrincipalID, _ asset: AssetID) -> TaskSet? {
        assignments[Pair(principal.rawValue, asset.rawValue)]
    }

    /// The closure of what `asset`'s owner shared with `partner`, if it shared it.
    @inlinable
    public func share(_ asset: AssetID, with partner: PortfolioID) -> TaskSet? {
        shares[Pair(asset.rawValue, partner.rawValue)]
    }

    mutating func setAssignment(_ principal: PrincipalID, _ asset: AssetID, _ tasks: TaskSet?) {
        assignments[Pair(principal.rawValue, asset.rawValue)] = tasks
    }

    mutating func setShare(_ asset: AssetID, with partner: PortfolioID, _ tasks: TaskSet?) {
        shares[Pair(asset.rawValue, partner.rawValue)] = tasks
    }
}
