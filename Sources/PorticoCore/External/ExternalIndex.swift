import HashTreeCollections

/// External id -> entity id, for every kind and portfolio: what a check by external id reads first.
///
/// Keys are hashed with `Hasher` (SipHash under the process's random seed): external ids are chosen
/// by callers, so a cheaper unkeyed mix would let one caller pick ids that all collide and make every
/// lookup of its portfolio walk one long collision list. Only well-formed ids (ASCII, `ExternalID`) are
/// stored or looked up, so comparing them with `==` compares their bytes.
public struct ExternalIndex: Hashable, Sendable {
    /// One external id in its namespace: the kind, and the portfolio it is unique in (0 for portfolios).
    public struct Key: Hashable, Sendable {
        public let kind: ExternalKind
        public let scope: UInt64
        public let externalID: String

        @inlinable
        public init(_ kind: ExternalKind, in scope: UInt64, _ externalID: String) {
            self.kind = kind
            self.scope = scope
            self.externalID = externalID
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(self.kind.rawValue)
            hasher.combine(self.scope)
            var text = self.externalID
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.kind == rhs.kind && lhs.scope == rhs.scope && lhs.externalID == rhs.externalID
        }
    }

    private var ids = TreeDictionary<Key, UInt64>()

    public init() {}

    /// The entity `key` names, if any.
    @inlinable
    public subscript(key: Key) -> UInt64? { self.lookup(key) }

    @usableFromInline
    func lookup(_ key: Key) -> UInt64? { self.ids[key] }

    /// How many external ids are held.
    public var count: Int { self.ids.count }

    mutating func insert(_ key: Key, _ id: UInt64) { self.ids[key] = id }

    mutating func remove(_ key: Key) { self.ids[key] = nil }

    /// Every external id held, with its entity (tests compare it with the records).
    public var entries: [(key: Key, id: UInt64)] { self.ids.map { ($0.key, $0.value) } }
}
