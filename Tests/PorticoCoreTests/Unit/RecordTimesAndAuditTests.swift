import HashTreeCollections
import PorticoTestSupport
import Testing

@testable import PorticoCore

@Suite("Creation times, revisions and audit pages")
struct RecordTimesAndAuditTests {
    @Test(
        "records keep when they were made: portfolios and partnerships a revision, tokens and credentials a time"
    )
    func creation() async throws {
        let clock = ManualClock()
        let portico = try await Portico.open(clock: clock)
        let owner = try await Fixture.make(portico, name: "Owner")
        let created = try await portico.execute(.createPortfolio(name: "Later", tier: .none), as: .operator)
        #expect(portico.snapshot.state.portfolios[PortfolioID(created.createdID!)]?.createdRevision == created.revision)
        #expect(portico.snapshot.state.portfolios[owner.portfolio]?.createdRevision == 1)

        clock.advance(milliseconds: 1234)
        let issuedAt = clock.now()
        let credential = try await portico.execute(.issueServiceCredential(name: "svc"), as: .operator)
        clock.advance(days: 1)
        let token = try await portico.execute(
            .generateToken(
                owner.bot, app: owner.app, scopes: ScopeSet(.adsRead),
                expiry: .sixtyDays), as: owner.admin)
        let state = portico.snapshot.state
        #expect(state.credentials[CredentialID(credential.createdID!)]?.createdAt == issuedAt)
        let record = try #require(state.tokens[TokenID(token.createdID!)])
        #expect(record.createdAt == clock.now())
        #expect(
            record.expiresAt == Timestamp(milliseconds: clock.now().milliseconds + TokenExpiry.sixtyDaysInMilliseconds))

        let partner = try await Fixture.make(portico, name: "Partner")
        let added = try await portico.execute(.addPartner(owner.portfolio, partner: partner.portfolio), as: owner.admin)
        #expect(
            portico.snapshot.state.partnership(owner.portfolio, partner: partner.portfolio)?.createdRevision
                == added.revision)
        let request = try await portico.execute(
            .requestShare(owner.ads, by: partner.portfolio, TaskSet(.analyze)),
            as: partner.admin)
        let approved = try await portico.execute(
            .approveShareRequest(ShareRequestID(request.createdID!)),
            as: .operator)
        let reverse = try await portico.execute(
            .addPartner(partner.portfolio, partner: owner.portfolio),
            as: partner.admin)
        let after = portico.snapshot.state
        // The approval found the partnership made, so it kept its revision; the reverse one is its own.
        #expect(after.partnership(owner.portfolio, partner: partner.portfolio)?.createdRevision == added.revision)
        #expect(after.partnership(partner.portfolio, partner: owner.portfolio)?.createdRevision == reverse.revision)
        #expect(approved.revision < reverse.revision)
    }

    @Test("an approval that creates the partnership stamps it with its own revision")
    func approvalCreatesPartnership() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let owner = try await Fixture.make(portico, name: "Owner")
        let partner = try await Fixture.make(portico, name: "Partner")
        let request = try await portico.execute(
            .requestShare(owner.ads, by: partner.portfolio, TaskSet(.analyze)),
            as: partner.admin)
        #expect(portico.snapshot.state.partnership(owner.portfolio, partner: partner.portfolio) == nil)
        let approved = try await portico.execute(
            .approveShareRequest(ShareRequestID(request.createdID!)),
            as: owner.admin)
        let record = try #require(portico.snapshot.state.partnership(owner.portfolio, partner: partner.portfolio))
        #expect(record.createdRevision == approved.revision)
        let event = try #require(portico.snapshot.state.audit[approved.revision])
        #expect(event.portfolio == owner.portfolio && event.targetKind == .shareRequest)
        #expect(event.effects == ["added partner portfolio:\(partner.portfolio)"])
    }

    @Test("a filtered audit page reads a bounded number of revisions and says where to go on")
    func boundedScan() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let first = try await Fixture.make(portico, name: "First")
        let second = try await Fixture.make(portico, name: "Second")
        for index in 0..<5 {
            try await portico.execute(.addPerson(second.portfolio, name: "p\(index)", role: .employee), as: .operator)
        }
        try await portico.execute(.addPerson(first.portfolio, name: "last", role: .employee), as: .operator)
        let snapshot = portico.snapshot
        // First's events are revisions 1...7 and the last one; a page that reads 4 revisions at a time
        // comes back short (or empty) between them, and following the tokens finds every one.
        var found: [Revision] = []
        var after: Revision = 0
        var pages = 0
        while true {
            let page = try snapshot.auditEvents(after: after, portfolio: first.portfolio, limit: 100, scanLimit: 4)
            found += page.items.map(\.revision)
            pages += 1
            guard let next = page.nextPageToken else { break }
            #expect(next > after)
            after = next
        }
        #expect(found == Array(1...7) + [snapshot.revision])
        #expect(pages == (Int(snapshot.revision) + 3) / 4)
        #expect(try snapshot.auditEvents(after: 0, portfolio: first.portfolio).items.map(\.revision) == found)
        #expect(try snapshot.auditEvents(after: 0).items.count == Int(snapshot.revision))
    }

    @Test("a page after the newest revision, up to the largest a client can send, is empty and ends the listing")
    func auditPastTheEnd() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let snapshot = portico.snapshot
        for after in [snapshot.revision, snapshot.revision + 1, Revision(Int64.max), Revision.max] {
            for portfolio in [nil, fixture.portfolio] {
                let page = try snapshot.auditEvents(after: after, portfolio: portfolio)
                #expect(page.items.isEmpty && page.nextPageToken == nil, "after \(after)")
            }
        }
    }
}
