import PorticoCore
@testable import PorticoServer
import Testing

@Suite("Verified token secrets per connection")
struct PresentedTokenCacheTests {
    @Test("a secret finds the token it was stored with, never another's; a full cache keeps what fits")
    func cache() {
        var cache = PresentedTokenCache()
        let secrets = (1...2000).map { "ptk_\($0)_" + String(repeating: "s", count: 43) }
        #expect(cache[secrets[0]] == nil)
        for (index, secret) in secrets.enumerated() { cache[secret] = TokenID(UInt64(index + 1)) }
        var found = 0
        for (index, secret) in secrets.enumerated() {
            if let token = cache[secret] {
                // Only ever the token this very secret was stored with.
                #expect(token == TokenID(UInt64(index + 1)))
                found += 1
            }
        }
        // Each slot holds the last secret stored in it: at most one per slot, and many slots filled.
        #expect(found <= PresentedTokenCache.slots)
        #expect(found > PresentedTokenCache.slots / 2)
        // The most recent secret is always there, and a secret that differs by one character is not.
        #expect(cache[secrets[1999]] == TokenID(2000))
        #expect(cache["ptk_2000_" + String(repeating: "s", count: 42) + "t"] == nil)
        cache[secrets[1999]] = nil
        #expect(cache[secrets[1999]] == nil)
    }
}
