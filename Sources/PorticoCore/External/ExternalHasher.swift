/// The keyed hash of external ids: SipHash-1-3 of the id's UTF-8 bytes under a key drawn at random
/// once per process, then the namespace (kind and portfolio) folded in by a bijective mix.
///
/// Why keyed: callers choose external ids, so with a fixed (or unkeyed) function one caller could pick
/// thousands of ids that land on one page of `ExternalIndex` and make every lookup there a long scan.
/// SipHash is a pseudo-random function: without the key, the hashes of chosen strings are unpredictable,
/// so colliding ones cannot be chosen (the reasoning behind Swift's own `Hasher`, which is SipHash-1-3
/// too, and Rust's `HashMap`). Why not `Hasher`: it mixes in a length prefix and the kind and portfolio
/// as further blocks, through resilient calls, and measured 493 instructions for the two names of a
/// check; this one runs its rounds inline from a state derived from the key once (not per hash): four
/// rounds for an id of up to 7 bytes, five up to 15 (a whole lookup measured 231 instructions).
///
/// Why the namespace outside the function: `h = SipHash(bytes) ^ mix(scope, kind)` with `mix` a
/// bijection of its 64-bit input. Two names with the same bytes and different namespaces never share a
/// hash (their `mix` differ); two with different bytes share one only when `SipHash(a) ^ SipHash(b)`
/// equals a known difference, which for a pseudo-random function is as unlikely (2^-64 per pair) as
/// `SipHash(a) == SipHash(b)` itself. Folding it in costs 4 instructions where a block costs a round.
public struct ExternalHasher: Sendable {
    // SipHash's state after its initialisation from the key (k0, k1): v0 = k0 ^ "somepseu", ...
    @usableFromInline let v0: UInt64
    @usableFromInline let v1: UInt64
    @usableFromInline let v2: UInt64
    @usableFromInline let v3: UInt64
    /// All ones, except in tests that force collisions: a hash keeps only these bits.
    @usableFromInline let mask: UInt64

    /// The hasher under the key (`k0`, `k1`); `mask` keeps some bits only, so that tests can make
    /// different names share a hash (never in production: `ExternalHasher.process` keeps all 64).
    public init(k0: UInt64, k1: UInt64, mask: UInt64 = .max) {
        self.v0 = k0 ^ 0x736F_6D65_7073_6575
        self.v1 = k1 ^ 0x646F_7261_6E64_6F6D
        self.v2 = k0 ^ 0x6C79_6765_6E65_7261
        self.v3 = k1 ^ 0x7465_6462_7974_6573
        self.mask = mask
    }

    /// This process's hasher, under a key from the system's random generator (so it differs per run
    /// and per node, and nothing outside the process learns it: hashes are never stored or sent).
    public static let process: ExternalHasher = {
        var random = SystemRandomNumberGenerator()
        return ExternalHasher(k0: random.next(), k1: random.next())
    }()

    /// The hash of the name (`kind`, `scope`, `bytes`).
    @inlinable @inline(__always)
    public func hash(_ kind: ExternalKind, _ scope: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let namespace = IDHash.mix(scope &<< 3 | UInt64(kind.rawValue))
        return (sipHash13(bytes) ^ namespace) & mask
    }

    /// SipHash-1-3 (one compression round per 8-byte block, three finalisation rounds) of `bytes`.
    @inlinable @inline(__always)
    public func sipHash13(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        sip(bytes, compression: 1, finalisation: 3)
    }

    /// SipHash-c-d of `bytes` (the paper's construction; tests check SipHash-2-4 against its vectors).
    @inlinable @inline(__always)
    func sip(_ bytes: UnsafeRawBufferPointer, compression: Int, finalisation: Int) -> UInt64 {
        var v0 = self.v0, v1 = self.v1, v2 = self.v2, v3 = self.v3
        let count = bytes.count
        var offset = 0
        while offset &+ 8 <= count {
            let block = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            v3 ^= block
            for _ in 0..<compression { Self.round(&v0, &v1, &v2, &v3) }
            v0 ^= block
            offset &+= 8
        }
        let last = UInt64(truncatingIfNeeded: count) &<< 56 | Self.tail(bytes, from: offset)
        v3 ^= last
        for _ in 0..<compression { Self.round(&v0, &v1, &v2, &v3) }
        v0 ^= last
        v2 ^= 0xFF
        for _ in 0..<finalisation { Self.round(&v0, &v1, &v2, &v3) }
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// The 0 to 7 bytes from `offset` to the end, little-endian in the low bytes of a word, read
    /// without a loop and never outside `bytes`: the last 8 bytes shifted down when there are 8, else
    /// two overlapping 4-byte reads, else the first, middle and last byte.
    @inlinable @inline(__always)
    static func tail(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> UInt64 {
        let count = bytes.count
        let rest = count &- offset
        guard rest > 0 else { return 0 }
        if count >= 8 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
            return word &>> UInt64(8 &* (8 &- rest))
        }
        if rest >= 4 {
            let low = UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            let high = UInt64(
                UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)))
            return low | high &<< UInt64(8 &* (rest &- 4))
        }
        let first = UInt64(bytes[offset])
        let middle = UInt64(bytes[offset &+ rest / 2])
        let lastByte = UInt64(bytes[count &- 1])
        return first | middle &<< UInt64(8 &* (rest / 2)) | lastByte &<< UInt64(8 &* (rest &- 1))
    }

    @inlinable @inline(__always)
    static func round(_ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64) {
        v0 = v0 &+ v1
        v1 = v1.rotated(13) ^ v0
        v0 = v0.rotated(32)
        v2 = v2 &+ v3
        v3 = v3.rotated(16) ^ v2
        v0 = v0 &+ v3
        v3 = v3.rotated(21) ^ v0
        v2 = v2 &+ v1
        v1 = v1.rotated(17) ^ v2
        v2 = v2.rotated(32)
    }
}

extension UInt64 {
    @inlinable @inline(__always)
    func rotated(_ count: UInt64) -> UInt64 { self &<< count | self &>> (64 &- count) }
}
