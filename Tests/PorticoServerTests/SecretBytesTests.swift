import Testing

@testable import PorticoServer

@Suite("Secrets compared as bytes, a word at a time")
struct SecretBytesTests {
    /// Printable bytes of a secret's alphabet, different at every position.
    static func secret(_ length: Int) -> [UInt8] {
        (0..<length).map { UInt8(ascii: "A") + UInt8($0 % 26) }
    }

    @Test("equal runs of every length up to 70 are equal; one byte changed anywhere, or one bit, is not")
    func everyPosition() {
        for length in 0...70 {
            let secret = Self.secret(length)
            secret.withUnsafeBytes { left in
                Array(secret).withUnsafeBytes { right in
                    #expect(SecretBytes.equal(left, right), "length \(length)")
                }
            }
            // Every position: the first, the last, the ones inside the word that overlaps the one before.
            for position in 0..<length {
                for flip: UInt8 in [0x01, 0x80] {
                    var other = secret
                    other[position] ^= flip
                    secret.withUnsafeBytes { left in
                        other.withUnsafeBytes { right in
                            #expect(!SecretBytes.equal(left, right), "length \(length), byte \(position)")
                        }
                    }
                }
            }
        }
    }

    @Test("strings: the same bytes are equal; another length, or a Unicode-equivalent spelling, is not")
    func strings() {
        let credential = "psk_12_" + String(repeating: "K", count: 40)
        #expect(SecretBytes.equal(credential, "psk_12_" + String(repeating: "K", count: 40)))
        #expect(!SecretBytes.equal(credential, credential + "K"))
        #expect(!SecretBytes.equal(credential, String(credential.dropLast())))
        // U+212A KELVIN SIGN is canonically equivalent to K: String's == says equal, the bytes do not.
        let kelvin = "psk_12_" + String(repeating: "K", count: 39) + "\u{212A}"
        #expect(!SecretBytes.equal(credential, kelvin))
        #expect(SecretBytes(credential) != SecretBytes(kelvin))
        #expect(SecretBytes.equal("", ""))
    }
}
