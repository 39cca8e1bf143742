import HashTreeCollections

/// A persistent array indexed by core-assigned id: a read is two array loads, no hashing.
///
/// Ids come from one counter, so they are dense; pages of `pageSize` slots keep a write's copy small
/// (copy-on-write copies the outer array of pages and the one page written, not the table).
struct DenseTable<Value: Hashable & Sendable>: Hashable, Sendable {
    static var pageBits: UInt64 { 9 }
    static var pageSize: Int { 1 << Int(pageBits) }

    private var pages: ContiguousArray<ContiguousArray<Value?>> = []
    /// The slots holding a value.
    private(set) var count = 0

    @inline(__always)
    subscript(id: UInt64) -> Value? {
        let page = id >> Self.pageBits
        guard page < UInt64(pages.count) else { return nil }
        return pages[Int(page)][Int(id & UInt64(Self.pageSize - 1))]
    }

    /// Changes the slot of `id` in place (no copy of the value when this table holds the only one).
    mutating func update<Result>(_ id: UInt64, _ body: (inout Value?) -> Result) -> Result {
        let page = Int(id >> Self.pageBits)
        while pages.count <= page { pages.append(ContiguousArray(repeating: nil, count: Self.pageSize)) }
        let slot = Int(id & UInt64(Self.pageSize - 1))
        let had = pages[page][slot] != nil
        let result = body(&pages[page][slot])
        count += (pages[page][slot] != nil ? 1 : 0) - (had ? 1 : 0)
        return result
    }
}

/// One principal's assignments: (asset, closure) sorted by asset while few, a hash tree when many (so
/// that a principal with many assignments does not copy them all on every write).
enum AssignmentList: Hashable, Sendable {
    struct Entry: Hashable, Sendable {
        let asset: UInt64
        var tasks: TaskSet
    }

    case small(ContiguousArray<Entry>)
    case large(TreeDictionary<AssetID, TaskSet>)

    /// Beyond this many, a principal's assignments move to a hash tree.
    static let smallLimit = 64

    static let empty = AssignmentList.small([])

    @inline(__always)
    func tasks(on asset: AssetID) -> TaskSet? {
        switch self {
        case .small(let entries):
            var low = 0, high = entries.count
            while low < high {
                let middle = (low + high) / 2
                let key = entries[middle].asset
                if key == asset.rawValue { return entries[middle].tasks }
                if key < asset.rawValue { low = middle + 1 } else { high = middle }
            }
            return nil
        case .large(let tree):
            return tree[asset]
        }
    }

    var count: Int {
        switch self {
        case .small(let entries): entries.count
        case .large(let tree): tree.count
        }
    }

    mutating func set(_ asset: AssetID, _ tasks: TaskSet?) {
        switch self {
        case .small(var entries):
            self = .empty  // so that `entries` is the only reference and changes in place
            var low = 0, high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].asset < asset.rawValue { low = middle + 1 } else { high = middle }
            }
            let found = low < entries.count && entries[low].asset == asset.rawValue
            switch (found, tasks) {
            case (true, let tasks?): entries[low].tasks = tasks
            case (true, nil): entries.remove(at: low)
            case (false, let tasks?): entries.insert(Entry(asset: asset.rawValue, tasks: tasks), at: low)
            case (false, nil): break
            }
            if entries.count > Self.smallLimit {
                var tree = TreeDictionary<AssetID, TaskSet>()
                for entry in entries { tree[AssetID(entry.asset)] = entry.tasks }
                self = .large(tree)
            } else {
                self = .small(entries)
            }
        case .large(var tree):
            self = .empty
            tree[asset] = tasks
            self = .large(tree)
        }
    }

    /// Equal when they hold the same assignments, whichever form each is in.
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.small(let left), .small(let right)): return left == right
        case (.large(let left), .large(let right)): return left == right
        default:
            guard lhs.count == rhs.count else { return false }
            let (small, large) = if case .small(let entries) = lhs { (entries, rhs) } else {
                (rhs.smallEntries, lhs)
            }
            return small.allSatisfy { large.tasks(on: AssetID($0.asset)) == $0.tasks }
        }
    }

    private var smallEntries: ContiguousArray<Entry> {
        if case .small(let entries) = self { return entries }
        return []
    }

    func hash(into hasher: inout Hasher) { hasher.combine(count) }
}
