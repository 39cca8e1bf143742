/// The shape of every secret the core hands out: `<prefix>_<id>_<base64url of 32 random bytes>`.
///
/// The readable prefix says what the secret is (`ptk` token, `psk` service credential, `pas` app
/// secret); the id finds the record without a hash index; only the SHA-256 of the whole string is kept.
public enum SecretFormat {
    /// Random bytes per secret (256 bits).
    public static let randomByteCount = 32

    public static let tokenPrefix = "ptk"
    public static let credentialPrefix = "psk"
    public static let appSecretPrefix = "pas"

    /// A fresh secret for the record `id`, from the system's secure generator (getrandom on Linux).
    static func make(prefix: String, id: UInt64) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(randomByteCount)
        for _ in 0..<randomByteCount / 8 {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return "\(prefix)_\(id)_\(base64URL(bytes))"
    }

    /// Splits a presented secret into prefix and id; nil when it is not one of ours. Allocates nothing
    /// (a check by token runs it on every call).
    static func parse(_ secret: String) -> (prefix: Substring, id: UInt64)? {
        let separator = UInt8(ascii: "_")
        var contiguous = secret
        // One pass over the bytes: the prefix up to the first "_", decimal digits up to the second,
        // then exactly 43 characters.
        let parsed: (prefixBytes: Int, id: UInt64)? = contiguous.withUTF8 { bytes in
            guard let first = bytes.firstIndex(of: separator) else { return nil }
            var index = first + 1
            var id: UInt64 = 0
            while index < bytes.count, bytes[index] != separator {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (times, overflowed) = id.multipliedReportingOverflow(by: 10)
                let (sum, carried) = times.addingReportingOverflow(UInt64(digit))
                guard !overflowed, !carried else { return nil }
                id = sum
                index += 1
            }
            guard index > first + 1, index < bytes.count, bytes.count - index - 1 == 43 else { return nil }
            return (first, id)
        }
        guard let parsed else { return nil }
        return (secret[..<secret.utf8.index(secret.utf8.startIndex, offsetBy: parsed.prefixBytes)], parsed.id)
    }

    /// Base64url without padding (RFC 4648 §5).
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for byte in chunk { value = value << 8 | UInt32(byte) }
            value <<= UInt32(8 * (3 - chunk.count))
            for position in 0...chunk.count {
                output.append(alphabet[Int((value >> UInt32(18 - 6 * position)) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
