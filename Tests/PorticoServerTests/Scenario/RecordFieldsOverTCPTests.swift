import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Testing

/// The fields the wire contract promises beyond what the scenario corpus compares: creation times and
/// revisions, partners' revisions, audit targets and actors, explain rules, as a live server answers them.
@Suite("Record fields over loopback TCP")
struct RecordFieldsOverTCPTests {
    @Test("portfolios, tokens, credentials and partners carry when they were made; audit events their target")
    func recordFields() async throws {
        try await TestServer.with { server in
            let client = server.client()
            let now = server.clock.now().milliseconds * 1000
            let created = try await client.createPortfolio(.init(name: "Acme", systemUserTier: .standard))
            #expect(created.portfolio?.createdRevision == created.revision)
            let credential = try await client.createServiceCredential(.init(name: "svc"))
            #expect(credential.credential?.createdAtUnixMicros == now)
            let fixture = try await ServerFixture.build(client)
            let tokens = try await client.listTokens(.init(systemUserID: fixture.worker))
            #expect(tokens.tokens.count == 1 && tokens.tokens.allSatisfy { $0.createdAtUnixMicros == now })
            let listed = try await client.listServiceCredentials(.init())
            #expect(listed.credentials.map(\.createdAtUnixMicros) == [now])

            let asAdmin = CallOptions(credential: fixture.adminToken)
            let partner = try await client.createPortfolio(.init(name: "Agency")).portfolio!.id
            let added = try await client.addPartner(
                .init(portfolioID: fixture.portfolio, partnerPortfolioID: partner), options: asAdmin)
            #expect(
                added.partner
                    == Partner(
                        portfolioID: fixture.portfolio, partnerPortfolioID: partner, createdRevision: added.revision))
            let partners = try await client.listPartners(.init(portfolioID: partner))
            #expect(partners.partners == [added.partner!])

            let events = try await client.listAuditEvents(
                .init(afterRevision: added.revision - 1, portfolioID: fixture.portfolio), options: asAdmin)
            let event = try #require(events.events.first)
            #expect(event.operation == "addPartner" && event.targetKind == .partner && event.targetID == partner)
            #expect(event.portfolioID == fixture.portfolio)
            #expect(event.actor?.kind == .systemUserToken && event.actor?.systemUserID == fixture.admin)
            #expect(event.timeUnixMicros == now)

            let explained = try await client.checkPermission(
                .init(assetID: fixture.adAccount, task: .analyze, explain: true, subject: .token(fixture.workerToken))
            )
            #expect(explained.allowed)
            #expect(explained.explanation.first?.rule == .token && explained.explanation.last?.rule == .assignment)
            #expect(!explained.explanation.contains { $0.rule == .unspecified || $0.detail.isEmpty })
        }
    }
}
