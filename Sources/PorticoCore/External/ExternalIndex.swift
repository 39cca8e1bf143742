/// External id -> entity id, for every kind and portfolio: what a check by external id reads first.
///
/// A hash table grown by linear hashing, persistent the way `DenseTable` is: pages of slots, found
/// through chunks of 128 pages. A lookup hashes the id's bytes once (`ExternalHasher`, keyed), reads
/// two array loads to its page and compares 64-bit hashes there (2 to 6 slots on average), then for
/// the one that matches the namespace and the first 16 bytes as two words kept in the slot (an id over
/// 16 bytes: the rest from its string): no allocation, no retain, no validation scan.
///
/// Writes stay cheap on a shared state: a change copies the chunk array (one word per 128 pages), one
/// chunk and one or two pages, never the table. The table grows one page per four entries by splitting
/// the next page in turn (linear hashing), so no insert ever rehashes the whole table. It never
/// shrinks: a removed id leaves its page (at most what the most ids ever held needed).
///
/// Only well-formed ids (`ExternalID`) are stored, so a malformed one misses like an unknown one;
/// lookups bound only the length (a megabyte string is not hashed). Ids are compared as UTF-8 bytes,
/// never with `String ==` (Unicode equivalence would equate U+212A KELVIN SIGN with `K`).
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
            for byte in self.externalID.utf8 { hasher.combine(byte) }
        }

        /// The same kind, portfolio and bytes.
        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.kind == rhs.kind && lhs.scope == rhs.scope && lhs.externalID.utf8.elementsEqual(rhs.externalID.utf8)
        }
    }

    /// One id: what a lookup compares, and the entity and the id itself.
    struct Slot: Sendable {
        let tag: Tag
        let id: UInt64
        let externalID: String

        var kind: ExternalKind { ExternalKind(rawValue: UInt8(truncatingIfNeeded: tag.shape))! }
    }

    /// A name as a lookup compares it, computed once: the hash, then the namespace, the length and the
    /// first 16 bytes as words, so that an id of 16 bytes or fewer is compared without its string.
    /// Plain words, so that reading one out of a slot in place retains nothing.
    struct Tag: Equatable, Sendable {
        let hash: UInt64
        let scope: UInt64
        /// The kind and the length in bytes.
        let shape: UInt64
        /// Bytes 0..<8 and 8..<16, little-endian, zero beyond the end.
        let head: UInt64
        let rest: UInt64

        var length: UInt64 { shape &>> 8 }

        /// The tag of `text`, or nil when it is empty or longer than any external id (not hashed).
        @inline(__always)
        init?(_ hasher: ExternalHasher, _ kind: ExternalKind, _ scope: UInt64, _ text: String) {
            guard let tag = ExternalIndex.withBytes(text, { bytes -> Tag? in
                guard !bytes.isEmpty, bytes.count <= ExternalID.maxLength else { return nil }
                return Tag(hasher, kind, scope, bytes)
            }) else { return nil }
            self = tag
        }

        @inline(__always)
        init(_ hasher: ExternalHasher, _ kind: ExternalKind, _ scope: UInt64, _ bytes: UnsafeRawBufferPointer) {
            let count = bytes.count
            self.hash = hasher.hash(kind, scope, bytes)
            self.scope = scope
            self.shape = UInt64(kind.rawValue) | UInt64(truncatingIfNeeded: count) &<< 8
            self.head = count >= 8 ? bytes.loadUnaligned(as: UInt64.self) : ExternalHasher.tail(bytes, from: 0)
            self.rest = count >= 16 ? bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                : count > 8 ? ExternalHasher.tail(bytes, from: 8) : 0
        }
    }

    typealias Page = ContiguousArray<Slot>

    /// Pages per chunk: 128, as `DenseTable`'s pages, so a write copies 1 KiB of chunk.
    static var chunkBits: Int { 7 }
    static var chunkMask: Int { (1 << chunkBits) - 1 }
    /// Slots per page on average beyond which the next page splits (pages hold 2 to 6 on average).
    static var loadLimit: Int { 4 }

    private var chunks: ContiguousArray<ContiguousArray<Page>> = [[Page()]]
    /// This round of splits started from 2^level pages ...
    private var level = 0
    /// ... and has split the pages below `split` so far (each in two: itself and itself + 2^level).
    private var split = 0
    /// How many external ids are held.
    public private(set) var count = 0
    private let hasher: ExternalHasher

    /// An empty index hashing with this process's key.
    public init() { self.init(hasher: .process) }

    /// An empty index hashing with `hasher` (tests use one that makes different ids collide).
    public init(hasher: ExternalHasher) { self.hasher = hasher }

    private var pageCount: Int { (1 << level) + split }

    /// The page of `hash`: its low `level` bits, or `level + 1` bits when that page was split already.
    @inline(__always)
    private func page(of hash: UInt64) -> Int {
        let base = UInt64(1) &<< UInt64(level)
        let index = hash & (base &- 1)
        return Int(truncatingIfNeeded: index < UInt64(split) ? hash & (base &<< 1 &- 1) : index)
    }

    /// Where the name `tag` (of `text`) is in page `index`, if it is there. Fields are read in place
    /// through the arrays' subscripts: a slot copied out would retain its string, and a closure over
    /// the page's buffer that the optimiser does not inline retains the chunk and the page around it
    /// (measured: 4 retains and releases per lookup).
    @inline(__always)
    private func position(of tag: Tag, _ text: String, page index: Int) -> Int? {
        let chunk = index &>> Self.chunkBits, page = index & Self.chunkMask
        for slot in chunks[chunk][page].indices where chunks[chunk][page][slot].tag == tag {
            if tag.length <= 16 || Self.sameBytes(chunks[chunk][page][slot].externalID, text) { return slot }
        }
        return nil
    }

    /// Whether the two strings have the same bytes (for ids over 16 bytes, after their first 16 matched).
    @inline(never)
    private static func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
        withBytes(lhs) { lhs in withBytes(rhs) { rhs in equal(lhs, rhs) } }
    }

    /// The entity `key` names, if any.
    public subscript(key: Key) -> UInt64? { self.id(key.kind, in: key.scope, key.externalID) }

    /// The entity of `kind` whose external id in `scope` is `externalID`, if there is one. Allocates
    /// nothing, retains nothing, and reads the string's bytes where they lie (inline for 15 bytes or
    /// fewer).
    public func id(_ kind: ExternalKind, in scope: UInt64, _ externalID: String) -> UInt64? {
        guard let tag = Tag(hasher, kind, scope, externalID) else { return nil }
        let index = page(of: tag.hash)
        guard let slot = position(of: tag, externalID, page: index) else { return nil }
        return chunks[index &>> Self.chunkBits][index & Self.chunkMask][slot].id
    }

    /// Makes `key` name `id` (replacing what it named, if anything); `key` is a well-formed id.
    mutating func insert(_ key: Key, _ id: UInt64) {
        remove(key)
        guard let tag = Tag(hasher, key.kind, key.scope, key.externalID) else { return }
        let index = page(of: tag.hash)
        chunks[index &>> Self.chunkBits][index & Self.chunkMask].append(
            Slot(tag: tag, id: id, externalID: key.externalID))
        count += 1
        if count > Self.loadLimit * pageCount { splitNextPage() }
    }

    /// Frees `key` (nothing happens if it names nothing).
    mutating func remove(_ key: Key) {
        guard let tag = Tag(hasher, key.kind, key.scope, key.externalID) else { return }
        let index = page(of: tag.hash)
        guard let slot = position(of: tag, key.externalID, page: index) else { return }
        chunks[index &>> Self.chunkBits][index & Self.chunkMask].remove(at: slot)
        count -= 1
    }

    /// Linear hashing's step: page `split` gives the slots whose bit `level` is set to a new page at
    /// `split + 2^level`; after 2^level splits the table has doubled and the next round starts.
    private mutating func splitNextPage() {
        let source = split
        let target = pageCount
        if target &>> Self.chunkBits == chunks.count { chunks.append([]) }
        let bit = UInt64(1) &<< UInt64(level)
        let slots = chunks[source &>> Self.chunkBits][source & Self.chunkMask]
        chunks[source &>> Self.chunkBits][source & Self.chunkMask] = slots.filter { $0.tag.hash & bit == 0 }
        chunks[target &>> Self.chunkBits].append(slots.filter { $0.tag.hash & bit != 0 })
        split += 1
        if split == 1 << level {
            level += 1
            split = 0
        }
    }

    /// Every external id held, with its entity (tests compare it with the records).
    public var entries: [(key: Key, id: UInt64)] {
        chunks.flatMap { $0.flatMap { $0.map { (Key($0.kind, in: $0.tag.scope, $0.externalID), $0.id) } } }
    }

    /// How many pages the table has (tests check that it grows with its count, not with collisions).
    var pages: Int { pageCount }

    /// Equal when they hold the same ids for the same names, however their pages lie.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && lhs.entries.allSatisfy { rhs[$0.key] == $0.id }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(count) }

    /// `body` over the UTF-8 bytes of `text`, where they lie (a copy only for a string that is not
    /// contiguous UTF-8, which a bridged string on Apple platforms can be).
    @inline(__always)
    static func withBytes<Result>(_ text: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(text.utf8).withUnsafeBytes(body)
    }

    /// Whether the two byte strings are equal: lengths, then 8-byte words (the last one overlapping).
    @inline(__always)
    static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        let count = lhs.count
        guard count == rhs.count else { return false }
        guard count >= 8 else { return ExternalHasher.tail(lhs, from: 0) == ExternalHasher.tail(rhs, from: 0) }
        var offset = 0
        while offset < count {
            let at = min(offset, count &- 8)
            guard lhs.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                == rhs.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            else { return false }
            offset &+= 8
        }
        return true
    }
}
