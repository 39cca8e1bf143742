import NIOCore
import PorticoCore
import Synchronization

/// Token secrets verified on one event loop, shared by every connection of that loop, by the token id
/// each names: a check by token whose secret any connection of the loop presented before skips the
/// SHA-256 of its secret (about 500 ns), and costs a comparison of the secret's bytes instead.
///
/// Safe to keep without the snapshot's revision: a token id is never reused, its secret never changes,
/// and only a secret whose digest matched its token's is stored. The core still checks the token's
/// revocation and expiry on every use, so a revoked or expired token is refused at once, cached or not.
///
/// Two-way set associative, the set chosen by the token id that the secret carries (`ptk_<id>_...`),
/// so finding a secret's set hashes nothing, and a secret whose id is not a number is never stored.
/// A new secret replaces the way of its set used least recently: popular tokens stay.
///
/// One cache per event loop (``VerifiedTokenCaches``), touched only on that loop's thread, so the hot
/// path takes no lock and shares no cache line with another loop.
final class VerifiedTokenCache {
    static let sets = 4096
    static let ways = 2

    /// The secret and token of each way, set by set; an empty secret marks an empty way.
    private var secrets: [String]
    private var tokens: [TokenID]
    /// Per set, the way used last.
    private var lastUsed: [UInt8]
    /// Lookups that found their secret, and secrets stored: for tests and the benchmark to count.
    private(set) var hits = 0
    private(set) var stores = 0

    init() {
        self.secrets = Array(repeating: "", count: Self.sets * Self.ways)
        self.tokens = Array(repeating: TokenID(0), count: Self.sets * Self.ways)
        self.lastUsed = Array(repeating: 0, count: Self.sets)
    }

    /// The token `secret` names, if it was verified on this loop; compared as bytes.
    func token(for secret: String) -> TokenID? {
        guard let set = Self.set(of: secret) else { return nil }
        for way in 0..<Self.ways {
            let slot = set * Self.ways + way
            if SecretBytes.equal(self.secrets[slot], secret) {
                self.lastUsed[set] = UInt8(way)
                self.hits &+= 1
                return self.tokens[slot]
            }
        }
        return nil
    }

    /// Remembers that `secret`, whose digest matched, names `token`.
    func remember(_ secret: String, as token: TokenID) {
        guard let set = Self.set(of: secret) else { return }
        var way = 1 - Int(self.lastUsed[set])
        for candidate in 0..<Self.ways where SecretBytes.equal(self.secrets[set * Self.ways + candidate], secret) {
            way = candidate
        }
        self.secrets[set * Self.ways + way] = secret
        self.tokens[set * Self.ways + way] = token
        self.lastUsed[set] = UInt8(way)
        self.stores &+= 1
    }

    /// Forgets `secret`, if it is stored.
    func forget(_ secret: String) {
        guard let set = Self.set(of: secret) else { return }
        for way in 0..<Self.ways where SecretBytes.equal(self.secrets[set * Self.ways + way], secret) {
            self.secrets[set * Self.ways + way] = ""
        }
    }

    /// The set of a secret: its token id (the digits between the first two underscores) mixed; nil when
    /// there is no such id.
    static func set(of secret: String) -> Int? {
        var secret = secret
        let id: UInt64? = secret.withUTF8 { bytes in
            guard let first = bytes.firstIndex(of: UInt8(ascii: "_")) else { return nil }
            var id: UInt64 = 0
            var index = first + 1
            // At most 19 digits: no overflow, and a longer run is no id of ours.
            while index < bytes.count, index - first <= 19 {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                id = id * 10 + UInt64(digit)
                index += 1
            }
            guard index > first + 1, index < bytes.count, bytes[index] == UInt8(ascii: "_") else { return nil }
            return id
        }
        guard let id else { return nil }
        return Int(truncatingIfNeeded: IDHash.mix(id)) & (Self.sets - 1)
    }
}

// Each cache is touched only on its own event loop's thread: ``VerifiedTokenCaches`` hands a loop's
// cache to the connections of that loop alone, and a read's call context (which lends it to the
// handler) lives only while the call runs on that loop; a write's context carries none.
extension VerifiedTokenCache: @unchecked Sendable {}

/// The server's token caches, one per event loop, made when a loop's first connection opens.
final class VerifiedTokenCaches: Sendable {
    private let caches = Mutex<[ObjectIdentifier: (loop: any EventLoop, cache: VerifiedTokenCache)]>([:])

    /// The cache of `loop`; asked once per connection, not per call.
    func cache(for loop: any EventLoop) -> VerifiedTokenCache {
        self.caches.withLock { caches in
            if let known = caches[ObjectIdentifier(loop)] { return known.cache }
            let cache = VerifiedTokenCache()
            caches[ObjectIdentifier(loop)] = (loop, cache)
            return cache
        }
    }

    /// Every loop's hits and stores, each read on its own loop: for tests.
    func counts() async throws -> (loops: Int, hits: Int, stores: Int) {
        var total = (loops: 0, hits: 0, stores: 0)
        for (loop, cache) in self.caches.withLock({ Array($0.values) }) {
            let (hits, stores) = try await loop.submit { (cache.hits, cache.stores) }.get()
            total = (total.loops + 1, total.hits + hits, total.stores + stores)
        }
        return total
    }
}
