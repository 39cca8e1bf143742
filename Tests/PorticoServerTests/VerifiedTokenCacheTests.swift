import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Testing

@testable import PorticoServer

@Suite("Verified token secrets per event loop")
struct VerifiedTokenCacheTests {
    static func secret(_ id: Int, _ tail: String = String(repeating: "s", count: 43)) -> String {
        "ptk_\(id)_" + tail
    }

    @Test("a secret finds the token it was stored with, never another's; a full cache keeps what fits")
    func cache() {
        let cache = VerifiedTokenCache()
        let capacity = VerifiedTokenCache.sets * VerifiedTokenCache.ways
        let secrets = (1...3 * capacity).map { Self.secret($0) }
        #expect(cache.token(for: secrets[0]) == nil)
        for (index, secret) in secrets.enumerated() { cache.remember(secret, as: TokenID(UInt64(index + 1))) }
        var found = 0
        for (index, secret) in secrets.enumerated() {
            if let token = cache.token(for: secret) {
                // Only ever the token this very secret was stored with.
                #expect(token == TokenID(UInt64(index + 1)))
                found += 1
            }
        }
        #expect(found <= capacity)
        #expect(found > capacity / 2)
        // The most recent secret is always there, and one that differs by one character is not.
        #expect(cache.token(for: secrets.last!) == TokenID(UInt64(secrets.count)))
        #expect(cache.token(for: Self.secret(secrets.count, String(repeating: "s", count: 42) + "t")) == nil)
        cache.forget(secrets.last!)
        #expect(cache.token(for: secrets.last!) == nil)
    }

    @Test("2,000 tokens in use, their ids spread as the core hands them out, nearly all stay")
    func popularTokensStay() {
        let cache = VerifiedTokenCache()
        var random = SystemRandomNumberGenerator()
        var id = 1000
        var secrets: [String] = []
        for _ in 0..<2000 {
            id += Int.random(in: 1...40, using: &random)
            secrets.append(Self.secret(id))
        }
        for (index, secret) in secrets.enumerated() { cache.remember(secret, as: TokenID(UInt64(index))) }
        let found = secrets.filter { cache.token(for: $0) != nil }.count
        #expect(found >= 1900, "\(found) of 2,000")
    }

    @Test(
        "a secret with no token id in it is never stored",
        arguments: ["", "ptk", "ptk_", "ptk__x", "ptk_12x_abc", "ptk_12"])
    func noID(_ secret: String) {
        let cache = VerifiedTokenCache()
        cache.remember(secret, as: TokenID(1))
        #expect(cache.token(for: secret) == nil)
        #expect(cache.stores == 0)
    }

    @Test("a verified secret is never found by a Unicode-equivalent one, though both fall in the same set")
    func comparedAsBytes() {
        let cache = VerifiedTokenCache()
        let secret = "ptk_7_K" + String(repeating: "a", count: 42)
        let kelvin = "ptk_7_\u{212A}" + String(repeating: "a", count: 42)
        #expect(secret == kelvin, "Swift's == equates them: the cache must not")
        #expect(VerifiedTokenCache.set(of: secret) == VerifiedTokenCache.set(of: kelvin))
        cache.remember(secret, as: TokenID(7))
        #expect(cache.token(for: secret) == TokenID(7))
        #expect(cache.token(for: kelvin) == nil)
    }

    @Test("a token verified on one connection is not hashed again on another of its loop; revoked, refused at once")
    func sharedAcrossConnections() async throws {
        try await TestServer.with { server in
            let fixture = try await ServerFixture.build(server.client())
            let check = CheckPermissionRequest(
                assetID: fixture.adAccount, task: .analyze, subject: .token(fixture.workerToken))
            let caches = server.server.environment.tokenCaches
            let before = try await caches.counts()
            // Eight connections (each client has its own) ask about the same token.
            for _ in 0..<8 {
                #expect(try await server.client().checkPermission(check).allowed)
            }
            let after = try await caches.counts()
            // At most one verification (SHA-256) per event loop, not one per connection.
            #expect(after.stores - before.stores <= after.loops, "\(before) -> \(after)")
            #expect(after.hits - before.hits >= 8 - after.loops, "\(before) -> \(after)")
            // A secret with the token's id but another tail is not the token.
            let forged = String(fixture.workerToken.dropLast()) + (fixture.workerToken.hasSuffix("A") ? "B" : "A")
            let denied = try await server.client().checkPermission(
                CheckPermissionRequest(assetID: fixture.adAccount, task: .analyze, subject: .token(forged)))
            #expect(!denied.allowed && denied.reason == .tokenNotFound)
            // Revoked: refused on the next check, though its secret stays verified in the caches.
            let id = UInt64(fixture.workerToken.split(separator: "_")[1])!
            _ = try await server.client().revokeToken(.init(tokenID: id))
            for _ in 0..<4 {
                let answer = try await server.client().checkPermission(check)
                #expect(!answer.allowed && answer.reason == .tokenRevoked)
            }
        }
    }
}
