import PorticoReasons

/// Which page of a lookup to return: items after `after` (the last id seen), at most `limit`.
public struct PageRequest: Hashable, Sendable {
    public static let maximumLimit = 1000

    public var after: UInt64?
    public var limit: Int

    public init(after: UInt64? = nil, limit: Int = 100) {
        self.after = after
        self.limit = limit
    }

    func validate() throws {
        guard (1...Self.maximumLimit).contains(limit) else {
            throw PorticoError.invalid("page limit must be 1 to \(Self.maximumLimit)", reason: .invalidPageLimit)
        }
    }

    /// Sorts `items` by key and cuts the page; stable because keys are unique ids that never change.
    func cut<Item>(_ items: [Item], key: (Item) -> UInt64) -> Page<Item> {
        let sorted = items.filter { after == nil || key($0) > after! }.sorted { key($0) < key($1) }
        let page = Array(sorted.prefix(limit))
        return Page(items: page, nextPageToken: sorted.count > limit ? page.last.map(key) : nil)
    }
}

/// One page of a lookup; pass `nextPageToken` as `after` for the next page (nil: no more).
public struct Page<Item: Hashable & Sendable>: Hashable, Sendable {
    public let items: [Item]
    public let nextPageToken: UInt64?
}

/// An asset a principal can work on, with the tasks it can perform there.
public struct AssetAccess: Hashable, Sendable {
    public let asset: AssetID
    public let type: AssetType
    public let tasks: TaskSet
}

/// A principal with access to an asset, with its effective tasks there.
public struct PrincipalAccess: Hashable, Sendable {
    public let principal: PrincipalID
    public let portfolio: PortfolioID
    public let tasks: TaskSet
}
