import NIOCore
import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Testing

@testable import PorticoServer

/// What the dispatch layer refuses before it does any work for a caller: bodies of callers without a
/// valid credential, bodies that do not decode (the health calls' too), and credentials that are only
/// Unicode-equivalent to one the connection presented before.
@Suite("Dispatch hardening")
struct DispatchHardeningTests {
    /// Bytes that do not decode as any message: a field that claims 5 bytes and has 1.
    static let undecodable: [UInt8] = [0x0A, 0x05, 0x01]

    /// The status of each call of `requests`, sent on one fresh connection.
    static func statuses(_ requests: [[UInt8]], port: Int) async throws -> [UInt64: FrameHeader] {
        let count = requests.count
        let (reply, _) = try await RawConnection.connect(port: port).exchange(
            WirePreface.bytes + requests.flatMap { $0 }
        ) {
            ((try? frames(in: $0).count) ?? 0) >= count
        }
        return Dictionary(uniqueKeysWithValues: try frames(in: reply).map { ($0.header.callID, $0.header) })
    }

    @Test("the credential is authenticated before the body is decoded: no valid credential, no work on the body")
    func credentialBeforeBody() async throws {
        try await TestServer.with { server in
            let wellFormed = "ptk_1_" + String(repeating: "A", count: 43)
            let answers = try await Self.statuses(
                [
                    try requestBytes(
                        callID: 1, method: .checkPermission, credential: wellFormed, rawBody: Self.undecodable),
                    try requestBytes(callID: 2, method: .checkPermission, credential: "", rawBody: Self.undecodable),
                    try requestBytes(
                        callID: 3, method: .createPortfolio, credential: wellFormed, rawBody: Self.undecodable),
                    try requestBytes(
                        callID: 4, method: .listPortfolios, credential: "pok_x", rawBody: Self.undecodable),
                    // A valid credential: now the body is decoded, and refused.
                    try requestBytes(
                        callID: 5,
                        method: .checkPermission,
                        credential: server.operatorKey,
                        rawBody: Self.undecodable
                    ),
                ],
                port: server.port
            )
            #expect(answers[1]?.statusCode == .unauthenticated && answers[1]?.errorDetail?.reason == "TOKEN_INVALID")
            #expect(
                answers[2]?.statusCode == .unauthenticated && answers[2]?.errorDetail?.reason == "MISSING_CREDENTIAL")
            #expect(answers[3]?.statusCode == .unauthenticated)
            #expect(answers[4]?.statusCode == .unauthenticated)
            #expect(answers[5]?.statusCode == .invalidArgument)
        }
    }

    @Test("Ping and GetServerInfo decode their bodies too: one that does not decode is INVALID_ARGUMENT")
    func healthBodiesDecoded() async throws {
        try await TestServer.with { server in
            let answers = try await Self.statuses(
                [
                    try requestBytes(callID: 1, method: .ping, rawBody: Self.undecodable),
                    try requestBytes(callID: 2, method: .getServerInfo, rawBody: Self.undecodable),
                    try requestBytes(callID: 3, method: .ping, rawBody: []),
                    // A field this version does not know is skipped, as protobuf requires.
                    try requestBytes(callID: 4, method: .getServerInfo, rawBody: [0x08, 0x01]),
                ],
                port: server.port
            )
            #expect(answers[1]?.statusCode == .invalidArgument)
            #expect(answers[2]?.statusCode == .invalidArgument)
            #expect(answers[3]?.statusCode == .ok)
            #expect(answers[4]?.statusCode == .ok)
        }
    }

    /// A token secret with a `K` in its random part, and the same with U+212A KELVIN SIGN in its place:
    /// equal as Swift `String`s (canonical equivalence), different as bytes.
    static func kelvinPair(_ client: PorticoClient, _ fixture: ServerFixture) async throws -> (String, String) {
        for _ in 0..<200 {
            let secret = try await client.generateToken(
                .init(systemUserID: fixture.worker, appID: fixture.app, scopes: [.adsRead])
            ).secret
            let random = secret.split(separator: "_", maxSplits: 2)[2]
            guard let k = random.firstIndex(of: "K") else { continue }
            let kelvin = String(secret[..<k]) + "\u{212A}" + String(secret[secret.index(after: k)...])
            return (secret, kelvin)
        }
        throw PorticoStatusError(code: .internal, message: "no token with a K in 200 (each has about a 50% chance)")
    }

    @Test("a credential Unicode-equivalent to one the connection used is not taken for it, last or cached")
    func credentialsComparedAsBytes() async throws {
        try await TestServer.with { server in
            let setup = server.client()
            let fixture = try await ServerFixture.build(setup)
            let (secret, kelvin) = try await Self.kelvinPair(setup, fixture)
            #expect(secret == kelvin && Array(secret.utf8) != Array(kelvin.utf8))
            let check = CheckPermissionRequest(
                assetID: fixture.adAccount,
                task: .analyze,
                subject: .systemUserID(fixture.worker)
            )
            // One connection: the real secret is the last credential, then one of the cached ones.
            let client = server.client(connections: 1)
            #expect(try await client.checkPermission(check, options: CallOptions(credential: secret)).allowed)
            await expectStatus(.unauthenticated, reason: "TOKEN_INVALID") {
                try await client.checkPermission(check, options: CallOptions(credential: kelvin))
            }
            #expect(try await client.checkPermission(check, options: CallOptions(credential: secret)).allowed)
            _ = try await client.checkPermission(check)
            await expectStatus(.unauthenticated, reason: "TOKEN_INVALID") {
                try await client.checkPermission(check, options: CallOptions(credential: kelvin))
            }
        }
    }

    @Test("a requester is not told who owns the asset it asks for, until the owner shares it")
    func requestShareHidesOwner() async throws {
        try await TestServer.with { server in
            let client = server.client()
            let owner = try await ServerFixture.build(client)
            let requester = try await ServerFixture.build(client)
            let asRequester = CallOptions(credential: requester.adminToken)
            let asked = try await client.requestShare(
                .init(portfolioID: requester.portfolio, assetID: owner.adAccount, tasks: [.analyze]),
                options: asRequester
            )
            let request = try #require(asked.shareRequest)
            #expect(request.ownerPortfolioID == 0)
            let listed = try await client.listShareRequests(
                .init(portfolioID: requester.portfolio), options: asRequester)
            #expect(listed.shareRequests.map(\.ownerPortfolioID) == [0])
            // The owner's admin and the operator see it; once approved, so does the requester.
            let asOwner = CallOptions(credential: owner.adminToken)
            let pending = try await client.listShareRequests(.init(portfolioID: owner.portfolio), options: asOwner)
            #expect(pending.shareRequests.map(\.ownerPortfolioID) == [owner.portfolio])
            let approved = try await client.approveShareRequest(.init(shareRequestID: request.id), options: asOwner)
            #expect(approved.shareRequest?.ownerPortfolioID == owner.portfolio)
            let after = try await client.listShareRequests(
                .init(portfolioID: requester.portfolio), options: asRequester)
            #expect(after.shareRequests.map(\.ownerPortfolioID) == [owner.portfolio])
        }
    }
}
