import PorticoCore

/// A state in which every reason of the check can be met: an owner portfolio with employees, tokens and
/// assets, a partner it shares one asset with, a disabled owner that shared with the partner too, and a
/// disabled portfolio with a person.
struct CheckWorld {
    /// A check and what kind it is, for the row of the table it must match.
    struct Situation {
        let explanation: Explanation
        let token: Bool
        let partner: Bool
    }

    let snapshot: AccessSnapshot
    let now: Timestamp
    let ownEmployee: PrincipalID
    let ownEmployeeToken: TokenID
    let ownAsset: AssetID
    let partnerEmployee: PrincipalID
    let partnerEmployeeToken: TokenID
    let sharedAsset: AssetID
    let situations: [String: Situation]

    func explain(principal: PrincipalID, _ asset: AssetID, _ task: AssetTask) -> Explanation {
        self.snapshot.explain(principal: principal, asset: asset, task: task, now: self.now)
    }

    func explain(token: TokenID, _ asset: AssetID, _ task: AssetTask) -> Explanation {
        self.snapshot.explain(token: token, asset: asset, task: task, now: self.now)
    }

    static func make() async throws -> CheckWorld {
        let clock = ManualClock()
        let portico = try await Portico.open(clock: clock)
        func run(_ command: Command) async throws -> UInt64 {
            try await portico.execute(command, as: .operator).createdID ?? 0
        }
        // The owner: an admin person, employees, an app and tokens, assets.
        let owner = PortfolioID(try await run(.createPortfolio(name: "owner", tier: .advanced)))
        let app = AppID(try await run(.createApp(owner, name: "app")))
        let ownAdmin = PrincipalID(try await run(.addPerson(owner, name: "admin", role: .admin)))
        let ownEmployee = PrincipalID(try await run(.addSystemUser(owner, name: "bot", role: .employee)))
        let unassigned = PrincipalID(try await run(.addPerson(owner, name: "new", role: .employee)))
        let removed = PrincipalID(try await run(.addPerson(owner, name: "gone", role: .employee)))
        let contractor = PrincipalID(try await run(.addPerson(owner, name: "contractor", role: .employee)))
        let ownAsset = AssetID(try await run(.addAsset(owner, type: .adAccount, name: "ads")))
        let unshared = AssetID(try await run(.addAsset(owner, type: .adAccount, name: "private")))
        let sharedAsset = AssetID(try await run(.addAsset(owner, type: .adAccount, name: "shared")))
        _ = try await run(.assign(ownEmployee, ownAsset, TaskSet(.analyze)))
        _ = try await run(.assign(contractor, ownAsset, TaskSet(.analyze), expiresAt: clock.now().adding(days: 30)))
        func token(_ principal: PrincipalID, _ scopes: [Scope], _ expiry: TokenExpiry = .never) async throws -> TokenID
        {
            TokenID(try await run(.generateToken(principal, app: app, scopes: ScopeSet(scopes), expiry: expiry)))
        }
        let ownEmployeeToken = try await token(ownEmployee, [.adsManagement])
        let adminOnlyToken = try await token(ownEmployee, [.businessManagement])
        let revokedToken = try await token(ownEmployee, [.adsManagement])
        let expiringToken = try await token(ownEmployee, [.adsManagement], .sixtyDays)
        _ = try await run(.revokeToken(revokedToken))
        _ = try await run(.removePrincipal(removed))

        // The partner: an admin person, employees assigned on the shared asset, one with a token.
        let partner = PortfolioID(try await run(.createPortfolio(name: "partner", tier: .standard)))
        let partnerApp = AppID(try await run(.createApp(partner, name: "app")))
        let partnerAdmin = PrincipalID(try await run(.addPerson(partner, name: "admin", role: .admin)))
        let partnerEmployee = PrincipalID(try await run(.addSystemUser(partner, name: "bot", role: .employee)))
        _ = try await run(.addPartner(owner, partner: partner))
        _ = try await run(.share(sharedAsset, with: partner, TaskSet(.advertise)))
        _ = try await run(.assign(partnerEmployee, sharedAsset, TaskSet(.analyze)))
        let partnerEmployeeToken = TokenID(
            try await run(
                .generateToken(partnerEmployee, app: partnerApp, scopes: ScopeSet([.adsManagement]), expiry: .never)))

        // An owner that shared with the partner and is disabled since; a disabled portfolio's person.
        let closed = PortfolioID(try await run(.createPortfolio(name: "closed", tier: .none)))
        let closedAsset = AssetID(try await run(.addAsset(closed, type: .adAccount, name: "old")))
        _ = try await run(.addPartner(closed, partner: partner))
        _ = try await run(.share(closedAsset, with: partner, TaskSet(.advertise)))
        let disabled = PortfolioID(try await run(.createPortfolio(name: "disabled", tier: .none)))
        let disabledPerson = PrincipalID(try await run(.addPerson(disabled, name: "idle", role: .admin)))
        _ = try await run(.setPortfolioStatus(closed, .disabled))
        _ = try await run(.setPortfolioStatus(disabled, .disabled))
        clock.advance(days: 61)

        let snapshot = portico.snapshot
        let now = clock.now()
        func principal(_ id: PrincipalID, _ asset: AssetID, _ task: AssetTask, partner: Bool = false) -> Situation {
            Situation(
                explanation: snapshot.explain(principal: id, asset: asset, task: task, now: now), token: false,
                partner: partner)
        }
        func token(_ id: TokenID, _ asset: AssetID, _ task: AssetTask, partner: Bool = false) -> Situation {
            Situation(
                explanation: snapshot.explain(token: id, asset: asset, task: task, now: now), token: true,
                partner: partner)
        }
        let missing: UInt64 = 1_000_000
        let situations: [String: Situation] = [
            "ADMIN_ROLE": principal(ownAdmin, ownAsset, .manage),
            "ASSIGNED": principal(ownEmployee, ownAsset, .analyze),
            "SHARED_ADMIN_ROLE": principal(partnerAdmin, sharedAsset, .draft, partner: true),
            "SHARED_ASSIGNED": principal(partnerEmployee, sharedAsset, .analyze, partner: true),
            "TOKEN_NOT_FOUND": token(TokenID(missing), ownAsset, .analyze),
            "TOKEN_REVOKED": token(revokedToken, ownAsset, .analyze),
            "TOKEN_EXPIRED": token(expiringToken, ownAsset, .analyze),
            "PRINCIPAL_NOT_FOUND": principal(PrincipalID(missing), ownAsset, .analyze),
            "PRINCIPAL_REMOVED": principal(removed, ownAsset, .analyze),
            "PORTFOLIO_DISABLED": principal(disabledPerson, ownAsset, .analyze, partner: true),
            "ASSET_NOT_FOUND": principal(ownEmployee, AssetID(missing), .analyze),
            "OWNER_DISABLED": principal(partnerAdmin, closedAsset, .analyze, partner: true),
            "TASK_NOT_VALID_FOR_ASSET": principal(ownAdmin, ownAsset, .moderate),
            "SCOPE_MISSING": token(adminOnlyToken, ownAsset, .analyze),
            "NOT_SHARED": principal(partnerAdmin, unshared, .analyze, partner: true),
            "TASK_NOT_SHARED": principal(partnerAdmin, sharedAsset, .manage, partner: true),
            "NOT_ASSIGNED": principal(unassigned, ownAsset, .analyze),
            "ASSIGNMENT_EXPIRED": principal(contractor, ownAsset, .analyze),
            "TASK_NOT_GRANTED": principal(partnerEmployee, sharedAsset, .advertise, partner: true),
        ]
        return CheckWorld(
            snapshot: snapshot, now: now, ownEmployee: ownEmployee, ownEmployeeToken: ownEmployeeToken,
            ownAsset: ownAsset, partnerEmployee: partnerEmployee, partnerEmployeeToken: partnerEmployeeToken,
            sharedAsset: sharedAsset, situations: situations
        )
    }
}
