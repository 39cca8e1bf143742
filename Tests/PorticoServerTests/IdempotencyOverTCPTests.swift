import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Testing

/// Idempotency keys against a live server, by a client that tries to defeat them.
@Suite("Idempotency keys over loopback TCP")
struct IdempotencyOverTCPTests {
    @Test("100 copies of one change sent at once with one key make one portfolio and get one answer")
    func concurrentCopies() async throws {
        try await TestServer.with { server in
            let client = server.client(connections: 4)
            let options = CallOptions(idempotencyKey: "create-acme-once")
            let answers = try await withThrowingTaskGroup(of: CreatePortfolioResponse.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await client.createPortfolio(.init(name: "Acme"), options: options) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(answers.map(\.revision)).count == 1)
            #expect(Set(answers.compactMap(\.portfolio?.id)).count == 1)
            let listed = try await client.listPortfolios(.init(pageSize: 1000))
            #expect(listed.portfolios.count == 1)
            #expect(server.portico.snapshot.revision == answers[0].revision)
        }
    }

    @Test("a long key or a byte outside 0x21-0x7E is INVALID_ARGUMENT; a megabyte key never reaches the core")
    func hostileKeys() async throws {
        try await TestServer.with { server in
            let client = server.client()
            let revision = server.portico.snapshot.revision
            // A megabyte key makes a header over the 8 KiB cap: the connection is refused at the header's
            // length (GOAWAY RESOURCE_EXHAUSTED), before anything is buffered or decoded.
            let refused = server.client()
            do {
                _ = try await refused.createPortfolio(
                    .init(name: "Acme"), options: CallOptions(idempotencyKey: String(repeating: "k", count: 1 << 20)))
                Issue.record("a megabyte key was accepted")
            } catch let error as PorticoStatusError {
                #expect([.unavailable, .resourceExhausted].contains(error.code), "\(error)")
            }
            await refused.close()
            for key in [String(repeating: "k", count: 4_000), String(repeating: "k", count: 129), "tab\there", "é"] {
                await expectStatus(.invalidArgument, reason: "INVALID_IDEMPOTENCY_KEY") {
                    try await client.createPortfolio(.init(name: "Acme"), options: CallOptions(idempotencyKey: key))
                }
            }
            #expect(server.portico.snapshot.revision == revision, "nothing applied")
            // A read ignores the key, whatever it is.
            _ = try await client.listPortfolios(.init(), options: CallOptions(idempotencyKey: "tab\there"))
            _ = try await client.createPortfolio(.init(name: "Acme"), options: CallOptions(idempotencyKey: "ok"))
        }
    }

    @Test("keys are the caller's own: another caller's equal key neither replays nor is refused")
    func keysPerCaller() async throws {
        try await TestServer.with { server in
            let fixture = try await ServerFixture.build(server.client())
            let admin = server.client(credential: fixture.adminToken)
            let options = CallOptions(idempotencyKey: "shared-key")
            let first = try await server.client().createPortfolio(.init(name: "Ops"), options: options)
            let second = try await admin.addPerson(
                .init(portfolioID: fixture.portfolio, name: "Ann", role: .employee), options: options)
            #expect(second.revision == first.revision + 1)
            let again = try await admin.addPerson(
                .init(portfolioID: fixture.portfolio, name: "Ann", role: .employee), options: options)
            #expect(again.revision == second.revision && again.person?.id == second.person?.id)
        }
    }
}
