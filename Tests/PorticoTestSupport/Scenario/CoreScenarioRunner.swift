public import PorticoCore

/// Drives scenario steps through a core (`Portico`), in process: each step is an operation with
/// arguments, the acting caller, an optional `bind`, and an optional expectation.
///
/// The runner records nothing itself: it returns how each answer differs from its expectation, and
/// throws only for a scenario that cannot run as written (an unbound name, an unknown value).
public struct CoreScenarioRunner {
    /// What a step produced, compared against its `expect`.
    enum Outcome {
        case done(CommandResult?)
        case decision(Decision)
        case explanation(Explanation)
        case decisions([Decision])
        case assets(Page<AssetAccess>)
        case principals(Page<PrincipalAccess>)
        case audit(Page<AuditEvent>)
        case partners(Page<PartnershipRecord>)
        case caller(Caller)
        /// A get or a list of entities: the ids answered, and for share requests the owners as told (0: not).
        case ids([UInt64], owners: [UInt64]? = nil)
        case preview(Preview)
        /// `sweepExpired`: the changes the sweep made.
        case swept([CommandResult])
    }

    /// The core the steps run on; a test that restarts the core replaces it, keeping the bindings.
    public var portico: Portico
    public let clock: ManualClock
    public let file: String
    public private(set) var ids: [String: UInt64] = [:]
    public private(set) var secrets: [String: String] = [:]
    /// The answer of each bound change, for `sameAs`: its revision and the id it created.
    public private(set) var answers: [String: CommandResult] = [:]

    public init(portico: Portico, clock: ManualClock, file: String) {
        self.portico = portico
        self.clock = clock
        self.file = file
    }

    /// A runner on a fresh core with the in-memory store.
    public static func make(file: String) async throws -> CoreScenarioRunner {
        let clock = ManualClock()
        return CoreScenarioRunner(portico: try await Portico.open(clock: clock), clock: clock, file: file)
    }

    /// Runs every step and returns where the answers differ from the expectations.
    public mutating func run(_ scenario: Scenario) async throws -> [ScenarioMismatch] {
        var mismatches: [ScenarioMismatch] = []
        for (index, step) in scenario.steps.enumerated() {
            mismatches += try await self.run(step, number: index + 1)
        }
        return mismatches
    }

    /// Runs one step (numbered from 1) and returns where its answer differs from its expectation.
    public mutating func run(_ step: Step, number: Int) async throws -> [ScenarioMismatch] {
        let place = "\(self.file) step \(number) (\(step.op.rawValue))"
        let outcome: Result<Outcome, PorticoError>
        do {
            outcome = .success(try await self.perform(step))
        } catch let error as PorticoError {
            outcome = .failure(error)
        }
        let differences = try self.verify(outcome, step.expect)
        if case .success(.done(let result?)) = outcome, let name = step.bind {
            self.ids[name] = result.createdID
            self.secrets[name] = result.secret
            self.answers[name] = result
        }
        return differences.map { ScenarioMismatch(step: number, text: "\(place): \($0)") }
    }

    // MARK: - Performing a step

    private func perform(_ step: Step) async throws -> Outcome {
        let args = step.args
        let caller = try self.caller(step.caller)
        let now = self.clock.now()
        let snapshot = self.portico.snapshot
        switch step.op {
        case .advanceClock:
            self.clock.advance(days: args.days ?? 0, milliseconds: Int64(args.milliseconds ?? 0))
            return .done(nil)
        case .check, .explain:
            let task = try Self.task(args.task)
            let asset = try self.asset(args.asset, args.assetRef, snapshot)
            if let token = args.token {
                let token = TokenID(try self.id(token))
                return step.op == .check
                    ? .decision(try snapshot.check(as: caller, token: token, asset: asset, task: task, now: now))
                    : .explanation(try snapshot.explain(as: caller, token: token, asset: asset, task: task, now: now))
            }
            let kind = try Self.kind(args.principalKind)
            let principal = try self.principal(args.principal, args.principalRef, kind, snapshot)
            return step.op == .check
                ? .decision(
                    try snapshot.check(as: caller, principal: principal, kind: kind, asset: asset, task: task, now: now)
                )
                : .explanation(
                    try snapshot.explain(
                        as: caller, principal: principal, kind: kind, asset: asset, task: task, now: now)
                )
        case .checkBatch:
            let requests = try (args.checks ?? []).map { item in
                let kind = try Self.kind(item.principalKind)
                let subject: CheckRequest.Subject =
                    if let token = item.token {
                        .token(TokenID(try self.id(token)))
                    } else {
                        .principal(try self.principal(item.principal, item.principalRef, kind, snapshot))
                    }
                return CheckRequest(
                    subject,
                    kind: kind,
                    asset: try self.asset(item.asset, item.assetRef, snapshot),
                    task: try Self.task(item.task)
                )
            }
            return .decisions(try snapshot.check(as: caller, batch: requests, now: now))
        case .listAssets:
            return .assets(
                try snapshot.assets(
                    as: caller,
                    of: PrincipalID(try self.id(args.principal, "principal")),
                    kind: try Self.kind(args.principalKind),
                    task: try args.task.map { try Self.task($0) },
                    page: try self.page(args),
                    now: now
                )
            )
        case .listPrincipals:
            return .principals(
                try snapshot.principals(
                    as: caller,
                    on: AssetID(try self.id(args.asset, "asset")),
                    task: try args.task.map { try Self.task($0) },
                    page: try self.page(args),
                    now: now
                )
            )
        case .listPartners:
            return .partners(
                try snapshot.partners(
                    as: caller,
                    of: PortfolioID(try self.id(args.portfolio, "portfolio")),
                    page: try self.page(args),
                    now: now
                )
            )
        case .auditEvents:
            return .audit(
                try snapshot.auditEvents(
                    as: caller,
                    after: try args.after.map { try self.id($0) } ?? 0,
                    portfolio: try args.portfolio.map { PortfolioID(try self.id($0)) },
                    limit: args.limit ?? 100,
                    now: now
                )
            )
        case .authenticate:
            return .caller(try snapshot.authenticate(try self.secret(args.secret), now: now))
        case .getPortfolio, .getPerson, .getAsset, .listPortfolios, .listPeople, .listSystemUsers, .listApps,
            .listOwnedAssets, .listAssignments, .listShares, .listShareRequests, .listTokens, .inspectToken:
            return try self.read(step.op, args, caller, snapshot, now)
        case .lookupExternalId:
            return .ids([try snapshot.lookup(try self.externalName(args, snapshot), as: caller, now: now)])
        case .preview:
            return .preview(try self.preview(args, caller, snapshot, now))
        case .sweepExpired:
            return .swept(try await self.portico.sweepExpiredAssignments())
        default:
            // A change that names its principal as a kind: the core compares it first, as the server does.
            if let kind = try Self.kind(args.principalKind) {
                let principal = PrincipalID(try self.id(args.principal ?? args.systemUser, "principal"))
                try snapshot.requireKind(of: principal, kind, changedBy: caller, now: now)
            }
            let command = try self.command(step.op, args)
            return .done(try await self.portico.execute(command, as: caller, idempotencyKey: step.idempotencyKey))
        }
    }

    /// A get or list of entities, through the core's reads (the rules of `Visibility`).
    private func read(
        _ op: Operation, _ args: Arguments, _ caller: Caller, _ snapshot: AccessSnapshot,
        _ now: Timestamp
    ) throws -> Outcome {
        func portfolio() throws -> PortfolioID { PortfolioID(try self.id(args.portfolio, "portfolio")) }
        let page = try self.page(args)
        switch op {
        case .getPortfolio:
            return .ids([try snapshot.portfolio(try portfolio(), as: caller, now: now).id.rawValue])
        case .getPerson:
            return .ids([
                try snapshot.person(PrincipalID(try self.id(args.principal, "principal")), as: caller, now: now)
                    .id.rawValue
            ])
        case .getAsset:
            return .ids([
                try snapshot.asset(AssetID(try self.id(args.asset, "asset")), as: caller, now: now).id.rawValue
            ])
        case .listPortfolios:
            return .ids(try snapshot.portfolios(as: caller, page: page, now: now).items.map(\.id.rawValue))
        case .listPeople, .listSystemUsers:
            let kind: PrincipalKindTag = op == .listPeople ? .person : .systemUser
            let members = try snapshot.members(of: try portfolio(), kind: kind, as: caller, page: page, now: now)
            return .ids(members.items.map(\.id.rawValue))
        case .listApps:
            return .ids(
                try snapshot.apps(of: try portfolio(), as: caller, page: page, now: now).items.map(\.id.rawValue))
        case .listOwnedAssets:
            let type = try args.type.map { try Self.parse(AssetType(name: $0), "type \($0)") }
            let assets = try snapshot.assets(ownedBy: try portfolio(), type: type, as: caller, page: page, now: now)
            return .ids(assets.items.map(\.id.rawValue))
        case .listAssignments:
            if let asset = args.asset {
                let page = try snapshot.assignments(on: AssetID(try self.id(asset)), as: caller, page: page, now: now)
                return .ids(page.items.map(\.id.rawValue))
            }
            let (_, assets) = try snapshot.assignments(
                of: PrincipalID(try self.id(args.principal, "principal")),
                kind: try Self.kind(args.principalKind),
                as: caller,
                page: page,
                now: now
            )
            return .ids(assets.items.map(\.rawValue))
        case .listShares:
            return .ids(try snapshot.shares(of: try portfolio(), as: caller, now: now).map(\.asset.id.rawValue))
        case .listShareRequests:
            let status = try args.status.map { try Self.parse(ShareRequestStatus(rawValue: $0), "status \($0)") }
            let requests = try snapshot.shareRequests(
                of: try portfolio(), status: status, as: caller, page: page, now: now)
            return .ids(
                requests.items.map(\.request.id.rawValue),
                owners: requests.items.map { $0.owner?.rawValue ?? 0 }
            )
        case .listTokens:
            let user = PrincipalID(try self.id(args.systemUser, "systemUser"))
            return .ids(try snapshot.tokens(of: user, as: caller, page: page, now: now).items.map(\.id.rawValue))
        case .inspectToken:
            let record = try snapshot.inspect(presentedSecret: try self.secret(args.secret), as: caller, now: now)
            return .ids(record.map { [$0.id.rawValue] } ?? [])
        default:
            throw ScenarioError.malformed("\(op) is not a get or a list")
        }
    }

    func command(_ op: Operation, _ args: Arguments) throws -> Command {
        func text(_ value: String?, _ key: String) throws -> String {
            guard let value else { throw ScenarioError.malformed("\(op) needs \(key)") }
            return value
        }
        func portfolio(_ reference: Reference?, _ key: String = "portfolio") throws -> PortfolioID {
            PortfolioID(try self.id(reference, key))
        }
        func principal(_ reference: Reference?, _ key: String = "principal") throws -> PrincipalID {
            PrincipalID(try self.id(reference, key))
        }
        func asset() throws -> AssetID { AssetID(try self.id(args.asset, "asset")) }
        func role() throws -> Role { try Self.parse(Role(rawValue: try text(args.role, "role")), "role") }
        func tasks() throws -> TaskSet { TaskSet(try (args.tasks ?? []).map { try Self.task($0) }) }
        func tier(_ name: String) throws -> SystemUserTier { try Self.parse(SystemUserTier(rawValue: name), "tier") }
        switch op {
        case .createPortfolio:
            return .createPortfolio(
                name: try text(args.name, "name"), tier: try tier(args.tier ?? "NONE"), externalID: args.externalId)
        case .setPortfolioStatus:
            let status = try Self.parse(PortfolioStatus(rawValue: try text(args.status, "status")), "status")
            return .setPortfolioStatus(try portfolio(args.portfolio), status)
        case .setSystemUserTier:
            return .setSystemUserTier(try portfolio(args.portfolio), try tier(try text(args.tier, "tier")))
        case .issueServiceCredential:
            return .issueServiceCredential(name: try text(args.name, "name"))
        case .revokeServiceCredential:
            return .revokeServiceCredential(CredentialID(try self.id(args.credential, "credential")))
        case .addPerson:
            return .addPerson(
                try portfolio(args.portfolio), name: try text(args.name, "name"), role: try role(),
                externalID: args.externalId)
        case .setRole:
            return .setRole(try principal(args.principal), try role())
        case .removePrincipal:
            return .removePrincipal(try principal(args.principal))
        case .createApp:
            return .createApp(
                try portfolio(args.portfolio), name: try text(args.name, "name"), externalID: args.externalId)
        case .addSystemUser:
            return .addSystemUser(
                try portfolio(args.portfolio), name: try text(args.name, "name"), role: try role(),
                externalID: args.externalId)
        case .addAsset:
            let type = try Self.parse(AssetType(name: try text(args.type, "type")), "type")
            return .addAsset(
                try portfolio(args.portfolio), type: type, name: try text(args.name, "name"),
                externalID: args.externalId)
        case .removeAsset:
            return .removeAsset(try asset())
        case .assign:
            return .assign(try principal(args.principal), try asset(), try tasks(), expiresAt: self.expiry(args))
        case .setExternalId:
            return .setExternalID(
                try Self.externalKind(args.kind), try self.id(args.id, "id"), try text(args.externalId, "externalId"))
        case .unassign:
            return .unassign(try principal(args.principal), try asset())
        case .share:
            return .share(try asset(), with: try portfolio(args.partner, "partner"), try tasks())
        case .unshare:
            return .unshare(try asset(), from: try portfolio(args.partner, "partner"))
        case .addPartner:
            return .addPartner(try portfolio(args.portfolio), partner: try portfolio(args.partner, "partner"))
        case .removePartner:
            return .removePartner(try portfolio(args.portfolio), partner: try portfolio(args.partner, "partner"))
        case .requestShare:
            return .requestShare(try asset(), by: try portfolio(args.requester, "requester"), try tasks())
        case .approveShareRequest:
            return .approveShareRequest(ShareRequestID(try self.id(args.request, "request")))
        case .declineShareRequest:
            return .declineShareRequest(ShareRequestID(try self.id(args.request, "request")))
        case .generateToken:
            let scopes = try (args.scopes ?? []).map { try Self.parse(Scope(name: $0), "scope \($0)") }
            let expiry = try Self.parse(TokenExpiry(rawValue: args.expiry ?? "NEVER"), "expiry")
            return .generateToken(
                try principal(args.systemUser, "systemUser"),
                app: AppID(try self.id(args.app, "app")),
                scopes: ScopeSet(scopes),
                expiry: expiry
            )
        case .revokeToken:
            return .revokeToken(TokenID(try self.id(args.token, "token")))
        case .revokeAllTokens:
            return .revokeAllTokens(try principal(args.systemUser, "systemUser"))
        default:
            throw ScenarioError.malformed("\(op) is not a change")
        }
    }

    // MARK: - Arguments

    /// The id `reference` stands for: a bound name's id, or the literal number.
    public func id(_ reference: Reference) throws -> UInt64 {
        switch reference {
        case .literal(let id): return id
        case .bound(let name):
            guard let id = self.ids[name] else { throw ScenarioError.malformed("unbound @\(name)") }
            return id
        }
    }

    func id(_ reference: Reference?, _ key: String) throws -> UInt64 {
        guard let reference else { throw ScenarioError.malformed("missing \(key)") }
        return try self.id(reference)
    }

    /// `@name` for a bound secret, or the literal string.
    func secret(_ text: String?) throws -> String {
        guard let text else { throw ScenarioError.malformed("authenticate needs secret") }
        guard text.hasPrefix("@") else { return text }
        return self.secrets[String(text.dropFirst())] ?? ""
    }

    func caller(_ reference: CallerReference) throws -> Caller {
        switch reference {
        case .operator:
            return .operator
        case .token(let token):
            return .systemUser(TokenID(try self.id(token)))
        case .service(let credential, let person):
            return .service(
                CredentialID(try self.id(credential)), onBehalfOf: try person.map { PrincipalID(try self.id($0)) })
        }
    }

    /// `PERSON` or `SYSTEM_USER`; nil when the step names no kind.
    static func kind(_ name: String?) throws -> PrincipalKindTag? {
        guard let name else { return nil }
        return try Self.parse(PrincipalKindTag(rawValue: name), "principal kind \(name)")
    }

    static func task(_ name: String?) throws -> AssetTask {
        try Self.parse(name.flatMap(AssetTask.init(name:)), "task \(name ?? "(none)")")
    }

    static func parse<T>(_ value: T?, _ what: String) throws -> T {
        guard let value else { throw ScenarioError.malformed("bad \(what)") }
        return value
    }

    private func page(_ args: Arguments) throws -> PageRequest {
        PageRequest(after: try args.after.map { try self.id($0) }, limit: args.limit ?? 100)
    }
}
