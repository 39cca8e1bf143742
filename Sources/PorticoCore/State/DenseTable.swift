/// A persistent array indexed by core-assigned id: a read is two array loads, no hashing.
///
/// Ids come from one counter, so they are dense; pages of `pageSize` slots keep a write's copy small
/// (copy-on-write copies the outer array of pages and the one page written, not the table). 128 slots
/// measured best at a million assignments: 512 made an assign ~40 % slower (copying the page's slots,
/// which hold references), and a two-level directory with 64-slot pages made the check ~30 % slower.
struct DenseTable<Value: Hashable & Sendable>: Hashable, Sendable {
    static var pageBits: UInt64 { 7 }
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

    /// Equal when every id holds the same value: a table that grew a page for an id since emptied (a
    /// removed asset) equals one that never did, as a state rebuilt from a checkpoint does.
    static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.count == rhs.count else { return false }
        let common = min(lhs.pages.count, rhs.pages.count)
        for index in 0..<common where lhs.pages[index] != rhs.pages[index] { return false }
        let longer = lhs.pages.count > rhs.pages.count ? lhs.pages : rhs.pages
        return longer[common...].allSatisfy { page in page.allSatisfy { $0 == nil } }
    }

    func hash(into hasher: inout Hasher) { hasher.combine(count) }

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
