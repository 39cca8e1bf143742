import Crypto

/// The SHA-256 of a presented secret, kept inline (no heap) and compared in constant time.
public struct SecretDigest: Hashable, Sendable, Codable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    /// The digest of `secret`'s UTF-8 bytes.
    public init(of secret: String) {
        // Hashes the string's own UTF-8 buffer: a check by token must not allocate.
        let digest = secret.utf8.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? SHA256.hash(data: Array(secret.utf8))
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        // Big-endian words, so that `hex` reads like the usual SHA-256 hex string.
        digest.withUnsafeBytes { raw in
            words = (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                     UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                     UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                     UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
        self.words = words
    }

    /// Rebuilds a digest from its hex form, as a store reads it back.
    public init?(hex: String) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var parsed = [UInt64](repeating: 0, count: 4)
        for index in 0..<4 {
            guard let word = UInt64(String(decoding: bytes[index * 16..<index * 16 + 16], as: UTF8.self),
                                    radix: 16)
            else { return nil }
            parsed[index] = word
        }
        words = (parsed[0], parsed[1], parsed[2], parsed[3])
    }

    /// Lower-case hex of the four words, for storage.
    public var hex: String {
        [words.0, words.1, words.2, words.3].map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    /// Compares without an early exit, so timing tells nothing about how many bytes matched.
    public func constantTimeEquals(_ other: SecretDigest) -> Bool {
        let difference = (words.0 ^ other.words.0) | (words.1 ^ other.words.1)
            | (words.2 ^ other.words.2) | (words.3 ^ other.words.3)
        return difference == 0
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.constantTimeEquals(rhs) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = SecretDigest(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad digest"))
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
