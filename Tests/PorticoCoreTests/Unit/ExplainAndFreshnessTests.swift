import PorticoCore
import PorticoTestSupport
import Testing

@Suite("Explain, batches and freshness")
struct ExplainAndFreshnessTests {
    @Test("explain gives the same decision as check, with the path that led to it")
    func explainMatchesCheck() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let owner = try await Fixture.make(portico, name: "Owner")
        let partner = try await Fixture.make(portico, name: "Partner")
        try await portico.execute(.addPartner(owner.portfolio, partner: partner.portfolio), as: owner.admin)
        try await portico.execute(.share(owner.ads, with: partner.portfolio, TaskSet(.advertise)), as: owner.admin)
        try await portico.execute(.assign(partner.alice, owner.ads, TaskSet(.analyze)), as: partner.admin)
        let snapshot = portico.snapshot
        for task in [AssetTask.analyze, .draft, .manage, .messaging] {
            let explanation = snapshot.explain(
                principal: partner.alice, asset: owner.ads, task: task, now: Timestamp(milliseconds: 0))
            #expect(
                explanation.decision
                    == snapshot.check(
                        principal: partner.alice, asset: owner.ads, task: task, now: Timestamp(milliseconds: 0)))
            #expect(
                explanation.steps.first
                    == Explanation.Step(
                        .principal, passed: true,
                        "principal \(partner.alice): PERSON EMPLOYEE of portfolio \(partner.portfolio)"))
            // Whatever denied is the last step, and the only one that decided.
            #expect(explanation.steps.last?.passed == explanation.decision.allowed)
        }
        let allowed = snapshot.explain(
            principal: partner.alice, asset: owner.ads, task: .analyze, now: Timestamp(milliseconds: 0))
        #expect(allowed.decision.reason == .sharedAssigned)
        #expect(
            allowed.steps.map(\.rule) == [
                .principal, .portfolioStatus, .asset, .portfolioStatus, .taskValid, .share,
                .adminRole, .assignment,
            ])
        #expect(allowed.steps.filter { !$0.passed }.map(\.rule) == [.adminRole])
        #expect(allowed.steps.last?.detail.hasPrefix("assignment") == true)
        let denied = snapshot.explain(
            principal: partner.alice, asset: owner.ads, task: .manage, now: Timestamp(milliseconds: 0))
        #expect(denied.decision.reason == .taskNotShared)
        #expect(denied.steps.last?.rule == .share && denied.steps.last?.passed == false)
        #expect(denied.steps.last?.detail.contains("not MANAGE") == true)
    }

    @Test("a token explanation names the scope step")
    func explainToken() async throws {
        let clock = ManualClock()
        let portico = try await Portico.open(clock: clock)
        let fixture = try await Fixture.make(portico)
        let token = TokenID(
            try await portico.execute(
                .generateToken(
                    fixture.bot, app: fixture.app,
                    scopes: ScopeSet(.adsRead), expiry: .never),
                as: fixture.admin
            ).createdID!)
        let explanation = portico.snapshot.explain(token: token, asset: fixture.ads, task: .advertise, now: clock.now())
        #expect(explanation.decision.reason == .scopeMissing)
        #expect(explanation.steps.first?.rule == .token)
        #expect(
            explanation.steps.last
                == Explanation.Step(
                    .tokenScope, passed: false,
                    "no token scope covers ADVERTISE on AD_ACCOUNT"))
    }

    @Test("a caller asking for a revision not yet visible gets UNAVAILABLE; a write's revision is visible at once")
    func atLeastRevision() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let write = try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.draft)), as: fixture.admin)
        let decision = try portico.check(
            as: .operator, principal: fixture.alice, asset: fixture.ads, task: .draft,
            atLeast: write.revision)
        #expect(decision.allowed && decision.revision == write.revision)
        let error = try #require(throws: PorticoError.self) {
            try portico.check(
                as: .operator, principal: fixture.alice, asset: fixture.ads, task: .draft,
                atLeast: write.revision + 1)
        }
        #expect(error.code == .unavailable && error.reason == "REVISION_NOT_VISIBLE")
    }

    @Test("errors carry Meta's codes where Meta defines them")
    func metaCodes() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let fixture = try await Fixture.make(portico)
        let invalid = try await #require(throws: PorticoError.self) {
            try await portico.execute(.assign(fixture.alice, fixture.ads, TaskSet(.upload)), as: fixture.admin)
        }
        #expect(invalid.meta == PorticoError.MetaCode(100, subcode: 1_752_129))
        let unknown = try #require(throws: PorticoError.self) { try portico.authenticate("ptk_1_x") }
        #expect(unknown.code == .unauthenticated && unknown.meta == PorticoError.MetaCode(190, subcode: 467))
    }
}
