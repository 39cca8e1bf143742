import Testing

@testable import PorticoCore

@Suite("Secrets and authentication")
struct SecretTests {
    @Test("a token secret has a readable prefix, its id, and 32 random bytes")
    func format() throws {
        let secret = SecretFormat.make(prefix: SecretFormat.tokenPrefix, id: 42)
        let parts = secret.split(separator: "_", maxSplits: 2)
        #expect(parts[0] == "ptk" && parts[1] == "42")
        #expect(parts[2].utf8.count == 43)  // 32 bytes in unpadded base64url
        #expect(parts[2].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(SecretFormat.make(prefix: "ptk", id: 42) != secret)
        let parsed = try #require(SecretFormat.parse(secret))
        #expect(parsed.prefix == "ptk" && parsed.id == 42)
    }

    @Test("parse takes prefix_digits_43 characters and nothing else")
    func parseShapes() {
        let tail = String(repeating: "A", count: 43)
        #expect(SecretFormat.parse("ptk_7_" + tail).map { [String($0.prefix), String($0.id)] } == ["ptk", "7"])
        #expect(SecretFormat.parse("psk_18446744073709551615_" + tail)?.id == UInt64.max)
        #expect(SecretFormat.parse("_5_" + tail).map { String($0.prefix) } == "")
        for bad in [
            "ptk__" + tail, "ptk_18446744073709551616_" + tail, "ptk_1a_" + tail, "ptk_-1_" + tail, "ptk_+1_" + tail,
            "ptk_1_" + tail.dropLast(), "ptk_1_" + tail + "A", "ptk_1" + tail, "ptk1_" + tail, "", "ptk_1_",
        ] {
            #expect(SecretFormat.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("base64url matches RFC 4648 vectors")
    func base64() {
        #expect(SecretFormat.base64URL(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(SecretFormat.base64URL(Array("fooba".utf8)) == "Zm9vYmE")
        #expect(SecretFormat.base64URL([0xFB, 0xFF]) == "-_8")
    }

    @Test("a digest is SHA-256, survives hex, and compares in constant time")
    func digest() throws {
        let digest = SecretDigest(of: "abc")
        #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecretDigest(hex: digest.hex) == digest)
        #expect(!digest.constantTimeEquals(SecretDigest(of: "abd")))
    }

    @Test("only the digest of a generated secret is kept, and the secret authenticates")
    func onlyDigestKept() async throws {
        let clock = ManualClock()
        let portico = try await Portico.open(clock: clock)
        let credential = try await portico.execute(.issueServiceCredential(name: "svc"), as: .operator)
        let secret = try #require(credential.secret)
        let state = portico.snapshot.state
        #expect(!String(describing: state).contains(secret))
        #expect(try portico.authenticate(secret) == .service(CredentialID(try #require(credential.createdID))))
        var tampered = secret
        tampered.removeLast()
        tampered += secret.hasSuffix("A") ? "B" : "A"
        #expect(throws: PorticoError.self) { try portico.authenticate(tampered) }
    }
}
