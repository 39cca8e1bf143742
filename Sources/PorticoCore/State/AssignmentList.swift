public import HashTreeCollections

/// One principal's assignments (asset -> grant): sorted entries while few, a hash tree when many, so a
/// principal with many assignments does not copy them all on every write.
///
/// The principal's record and the check index hold the same list value, so its storage is shared:
/// one copy in memory, read by the check in place of a hash-tree lookup.
///
/// The small form's entries are 16 bytes: asset, granted tasks, closure. A grant that expires sets a
/// flag bit in its entry and is followed by a second entry, for the same asset, holding the expiry;
/// most grants never expire and take one entry. Why not the expiry in every entry: 24-byte entries
/// made the check 8-37 % slower at a million assignments for the same instructions (the binary search
/// over a principal's entries misses the cache on a large set, and spans more lines); why not a second
/// array: the check would copy (retain and release) two references out of the principal instead of one.
public enum AssignmentList: Hashable, Sendable {
    /// One 16-byte entry of the small form: a grant, or the expiry of the flagged grant just before it.
    public struct Entry: Hashable, Sendable {
        let asset: UInt64
        /// A grant's granted tasks, with `expiresFlag` when an expiry entry follows (tasks use the low
        /// 20 bits of a `TaskSet`); an expiry entry's low 32 bits of milliseconds.
        let low: UInt32
        /// A grant's closure; an expiry entry's high 32 bits of milliseconds.
        let high: UInt32

        static var expiresFlag: UInt32 { 1 << 31 }

        /// The grant's entry (flagged when it expires).
        init(asset: UInt64, grant: Grant) {
            self.asset = asset
            self.low = grant.granted.rawValue & ~Self.expiresFlag | (grant.expiry == nil ? 0 : Self.expiresFlag)
            self.high = grant.effective.rawValue
        }

        /// The entry that holds `expiresAt` for the grant before it.
        init(asset: UInt64, expiresAt: Timestamp) {
            self.asset = asset
            self.low = UInt32(truncatingIfNeeded: expiresAt.milliseconds)
            self.high = UInt32(truncatingIfNeeded: expiresAt.milliseconds >> 32)
        }

        /// For a grant's entry: whether the next entry holds its expiry.
        var expires: Bool { low & Self.expiresFlag != 0 }

        /// For an expiry entry: the time.
        var expiresAt: Timestamp { Timestamp(milliseconds: Int64(high) << 32 | Int64(low)) }

        /// For a grant's entry: the grant, expiring at `expiresAt`.
        func grant(expiresAt: Timestamp) -> Grant {
            Grant(granted: TaskSet(rawValue: low & ~Self.expiresFlag), effective: TaskSet(rawValue: high),
                  expiresAt: expiresAt)
        }

        /// The entries of `grant` on `asset`: one, or two when it expires.
        static func entries(_ asset: UInt64, _ grant: Grant) -> [Entry] {
            let entry = Entry(asset: asset, grant: grant)
            return grant.expiry.map { [entry, Entry(asset: asset, expiresAt: $0)] } ?? [entry]
        }
    }

    case small(ContiguousArray<Entry>)
    case large(TreeDictionary<AssetID, Grant>)

    /// Beyond this many assignments, a principal's assignments move to a hash tree.
    public static var smallLimit: Int { 64 }

    public static var empty: AssignmentList { .small([]) }

    /// The list of `grants`, sorted by asset, in the form their number calls for.
    init(sorted grants: some Collection<(asset: UInt64, grant: Grant)>) {
        guard grants.count > Self.smallLimit else {
            self = .small(ContiguousArray(grants.lazy.flatMap { Entry.entries($0.asset, $0.grant) }))
            return
        }
        var tree = TreeDictionary<AssetID, Grant>()
        for (asset, grant) in grants { tree[AssetID(asset)] = grant }
        self = .large(tree)
    }

    /// The grant on `asset`, if there is one.
    @inline(__always)
    public subscript(asset: AssetID) -> Grant? {
        get {
            switch self {
            case .small(let entries):
                let (index, found) = Self.search(entries, asset.rawValue)
                guard found else { return nil }
                let entry = entries[index]
                // The expiry entry is read only for a grant that expires (its flag), never for the others.
                return entry.grant(expiresAt: entry.expires ? entries[index + 1].expiresAt : .never)
            case .large(let tree):
                return tree[asset]
            }
        }
        set { set(asset, newValue) }
    }

    /// How many assignments: entries less the expiry entries (at most 2 x `smallLimit` to look at).
    public var count: Int {
        switch self {
        case .small(let entries): entries.count - entries.reduce(0) { $0 + ($1.expires ? 1 : 0) }
        case .large(let tree): tree.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// The assets, in no promised order.
    public var keys: [AssetID] { map(\.key) }

    /// The first entry for `asset` or after it (a grant's entry comes before its expiry entry), and
    /// whether it is for `asset`.
    @inline(__always)
    private static func search(_ entries: ContiguousArray<Entry>, _ asset: UInt64) -> (Int, Bool) {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].asset < asset { low = middle + 1 } else { high = middle }
        }
        return (low, low < entries.count && entries[low].asset == asset)
    }

    private mutating func set(_ asset: AssetID, _ grant: Grant?) {
        switch self {
        case .small(var entries):
            self = .empty  // so that `entries` is the only reference and changes in place
            let (index, found) = Self.search(entries, asset.rawValue)
            let old = found ? (entries[index].expires ? 2 : 1) : 0
            entries.replaceSubrange(index..<index + old, with: grant.map { Entry.entries(asset.rawValue, $0) } ?? [])
            self = .small(entries)
            if count > Self.smallLimit { self = Self(sorted: map { ($0.key.rawValue, $0.value) }) }
        case .large(var tree):
            self = .empty
            tree[asset] = grant
            self = .large(tree)
        }
    }

    /// Equal when they hold the same assignments, whichever form each is in.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.small(let left), .small(let right)): return left == right
        case (.large(let left), .large(let right)): return left == right
        default: return lhs.count == rhs.count && lhs.allSatisfy { rhs[$0.key] == $0.value }
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(count) }
}

extension AssignmentList: Sequence {
    public typealias Element = (key: AssetID, value: Grant)

    public struct Iterator: IteratorProtocol {
        fileprivate var small: ContiguousArray<Entry>.Iterator?
        fileprivate var large: TreeDictionary<AssetID, Grant>.Iterator?

        public mutating func next() -> Element? {
            if let entry = small?.next() {
                let expiresAt = entry.expires ? small?.next()?.expiresAt ?? .never : .never
                return (AssetID(entry.asset), entry.grant(expiresAt: expiresAt))
            }
            if let (key, value) = large?.next() { return (key, value) }
            return nil
        }
    }

    public func makeIterator() -> Iterator {
        switch self {
        case .small(let entries): Iterator(small: entries.makeIterator(), large: nil)
        case .large(let tree): Iterator(small: nil, large: tree.makeIterator())
        }
    }
}

extension AssignmentList: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (AssetID, Grant)...) {
        self = .empty
        for (asset, grant) in elements { self[asset] = grant }
    }
}
