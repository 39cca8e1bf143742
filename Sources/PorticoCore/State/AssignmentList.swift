public import HashTreeCollections

/// One principal's assignments (asset -> grant): sorted entries while few, a hash tree when many, so a
/// principal with many assignments does not copy them all on every write.
///
/// The principal's record and the check index hold the same list value, so its storage is shared:
/// one copy in memory, read by the check in place of a hash-tree lookup.
public enum AssignmentList: Hashable, Sendable {
    /// One assignment of the small form.
    public struct Entry: Hashable, Sendable {
        let asset: UInt64
        var grant: Grant
    }

    case small(ContiguousArray<Entry>)
    case large(TreeDictionary<AssetID, Grant>)

    /// Beyond this many, a principal's assignments move to a hash tree.
    public static let smallLimit = 64

    public static let empty = AssignmentList.small([])

    /// The list of `entries`, sorted by asset, in the form their number calls for.
    init(sorted entries: ContiguousArray<Entry>) {
        guard entries.count > Self.smallLimit else {
            self = .small(entries)
            return
        }
        var tree = TreeDictionary<AssetID, Grant>()
        for entry in entries { tree[AssetID(entry.asset)] = entry.grant }
        self = .large(tree)
    }

    /// The grant on `asset`, if there is one.
    @inline(__always)
    public subscript(asset: AssetID) -> Grant? {
        get {
            switch self {
            case .small(let entries):
                let (index, found) = Self.search(entries, asset)
                return found ? entries[index].grant : nil
            case .large(let tree):
                return tree[asset]
            }
        }
        set { set(asset, newValue) }
    }

    public var count: Int {
        switch self {
        case .small(let entries): entries.count
        case .large(let tree): tree.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// The assets, in no promised order.
    public var keys: [AssetID] { map(\.key) }

    private static func search(_ entries: ContiguousArray<Entry>, _ asset: AssetID) -> (Int, Bool) {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].asset < asset.rawValue { low = middle + 1 } else { high = middle }
        }
        return (low, low < entries.count && entries[low].asset == asset.rawValue)
    }

    private mutating func set(_ asset: AssetID, _ grant: Grant?) {
        switch self {
        case .small(var entries):
            self = .empty  // so that `entries` is the only reference and changes in place
            let (index, found) = Self.search(entries, asset)
            switch (found, grant) {
            case (true, let grant?): entries[index].grant = grant
            case (true, nil): entries.remove(at: index)
            case (false, let grant?): entries.insert(Entry(asset: asset.rawValue, grant: grant), at: index)
            case (false, nil): break
            }
            self = Self(sorted: entries)
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
            if let entry = small?.next() { return (AssetID(entry.asset), entry.grant) }
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
