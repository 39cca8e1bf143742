import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire

/// Drives one scenario of the corpus (`Tests/PorticoCoreTests/Scenarios`, format in its README.md)
/// through a live server and the Swift client over loopback TCP, with the semantics of the core's runner
/// (`CoreScenarioRunner` in PorticoTestSupport):
///
/// - each operation becomes the RPC that the server maps to the same core command or read;
/// - the step's `as` becomes the call's credential (`operator` the operator key, `token:@t` the bound
///   token secret, `service:@svc` the bound service secret, `service:@svc as @p` the same with
///   `on_behalf_of_person_id`); a literal number stands for a record that does not exist, and is sent
///   as a well-formed secret that no record matches;
/// - ids and secrets a step created are bound from the response under the step's `bind`.
///
/// The runner does not record issues itself: it collects every difference between an answer and the
/// step's expectation, so that the test can tell a new failure from a documented exclusion.
struct WireScenarioRunner {
    /// What a change answered: the id it created, the secret it showed, its revision.
    struct Done {
        var createdID: UInt64?
        var secret: String?
        var revision: UInt64
        /// The kind of principal it created, for the calls that name a principal by kind and id.
        var kind: PorticoWire.PrincipalKind?
    }

    /// One decision as the wire answers it, with the reason in the core's spelling.
    struct WireDecision {
        var allowed: Bool
        var reason: String
    }

    /// What a step produced, compared against its `expect`.
    enum Outcome {
        case done(Done?)
        case decision(WireDecision)
        case explanation(WireDecision, [ExplainStep])
        case decisions([WireDecision])
        case assets(ListAccessibleAssetsResponse)
        case principals(ListAssetPrincipalsResponse)
        case audit(ListAuditEventsResponse)
        case partners(ListPartnersResponse)
        case caller(InspectTokenResponse)
        /// A get or a list of entities: the ids answered, and for share requests the owners as told (0: not).
        case ids([UInt64], owners: [UInt64]? = nil)
        case preview(PreviewChangesResponse)
        /// `sweepExpired`: the changes the sweep made.
        case swept(Int)
    }

    let server: TestServer
    let client: PorticoClient
    let file: String
    private(set) var ids: [String: UInt64] = [:]
    private(set) var secrets: [String: String] = [:]
    private(set) var kinds: [String: PorticoWire.PrincipalKind] = [:]
    /// The answer of each bound change, for `sameAs`.
    private(set) var answers: [String: Done] = [:]

    init(server: TestServer, client: PorticoClient, file: String) {
        self.server = server
        self.client = client
        self.file = file
    }

    /// Runs every step and returns where the answers differ from the expectations. A malformed step (or
    /// one that names something an earlier, differing step failed to bind) ends the run as a mismatch.
    mutating func run(_ scenario: Scenario) async -> [ScenarioMismatch] {
        var mismatches: [ScenarioMismatch] = []
        for (index, step) in scenario.steps.enumerated() {
            let number = index + 1
            let place = "\(self.file) step \(number) (\(step.op.rawValue))"
            do {
                let outcome: Result<Outcome, PorticoStatusError>
                do {
                    outcome = .success(try await self.perform(step))
                } catch let error as PorticoStatusError {
                    outcome = .failure(error)
                }
                for text in try await self.verify(outcome, step) {
                    mismatches.append(ScenarioMismatch(step: number, text: "\(place): \(text)"))
                }
                if case .success(.done(let done?)) = outcome, let name = step.bind {
                    self.ids[name] = done.createdID
                    self.secrets[name] = done.secret
                    self.kinds[name] = done.kind
                    self.answers[name] = done
                }
            } catch {
                mismatches.append(ScenarioMismatch(step: number, text: "\(place): \(error)"))
                break
            }
        }
        return mismatches
    }

    // MARK: - Performing a step

    private func perform(_ step: Step) async throws -> Outcome {
        let args = step.args
        var options = try self.options(step.caller)
        options.idempotencyKey = step.idempotencyKey
        switch step.op {
        case .advanceClock:
            self.server.clock.advance(days: args.days ?? 0, milliseconds: Int64(args.milliseconds ?? 0))
            return .done(nil)
        case .check, .explain:
            let request = CheckPermissionRequest(
                assetID: args.assetRef == nil ? try self.id(args.asset) : 0,
                task: try Self.task(args.task),
                explain: step.op == .explain,
                assetExternal: try args.assetRef.map(self.externalRef),
                subject: try self.externalSubject(args.principalRef, kind: args.principalKind)
                    ?? self.subject(principal: args.principal, kind: args.principalKind, token: args.token)
            )
            let response = try await self.client.checkPermission(request, options: options)
            let decision = WireDecision(allowed: response.allowed, reason: Self.reason(response.reason))
            return step.op == .explain ? .explanation(decision, response.explanation) : .decision(decision)
        case .checkBatch:
            let items = try (args.checks ?? []).map { item in
                CheckItem(
                    assetID: item.assetRef == nil ? try self.id(item.asset) : 0,
                    task: try Self.task(item.task),
                    assetExternal: try item.assetRef.map(self.externalRef),
                    subject: Self.itemSubject(
                        try self.externalSubject(item.principalRef, kind: item.principalKind)
                            ?? self.subject(principal: item.principal, kind: item.principalKind, token: item.token)
                    )
                )
            }
            let response = try await self.client.batchCheckPermissions(
                BatchCheckPermissionsRequest(checks: items),
                options: options
            )
            return .decisions(
                response.results.map { WireDecision(allowed: $0.allowed, reason: Self.reason($0.reason)) })
        case .listAssets:
            let page = try self.page(args)
            let request = ListAccessibleAssetsRequest(
                principal: try self.principal(args.principal, named: args.principalKind),
                task: try args.task.map { try Self.task($0) } ?? .unspecified,
                pageSize: page.size,
                pageToken: page.token
            )
            return .assets(try await self.client.listAccessibleAssets(request, options: options))
        case .listPrincipals:
            let page = try self.page(args)
            let request = ListAssetPrincipalsRequest(
                assetID: try self.id(args.asset),
                task: try args.task.map { try Self.task($0) } ?? .unspecified,
                pageSize: page.size,
                pageToken: page.token
            )
            return .principals(try await self.client.listAssetPrincipals(request, options: options))
        case .listPartners:
            let page = try self.page(args)
            let request = ListPartnersRequest(
                portfolioID: try self.id(args.portfolio),
                pageSize: page.size,
                pageToken: page.token
            )
            return .partners(try await self.client.listPartners(request, options: options))
        case .auditEvents:
            // The core's default limit is 100, as is the wire's page_size 0.
            let request = ListAuditEventsRequest(
                afterRevision: try args.after.map { try self.id($0) } ?? 0,
                portfolioID: try args.portfolio.map { try self.id($0) } ?? 0,
                pageSize: try Self.pageSize(args.limit ?? 100)
            )
            return .audit(try await self.client.listAuditEvents(request, options: options))
        case .authenticate:
            // No RPC authenticates alone: InspectToken needs a credential, so the secret is presented as the
            // call's credential, and also as the token to inspect, which names the token a token secret
            // stands for (compared with `token:@t`). See `verify` for what is compared.
            guard let text = args.secret else { throw ScenarioError.malformed("authenticate needs secret") }
            let secret = text.hasPrefix("@") ? (self.secrets[String(text.dropFirst())] ?? "") : text
            return .caller(
                try await self.client.inspectToken(
                    InspectTokenRequest(token: secret),
                    options: CallOptions(credential: secret)
                )
            )
        case .getPortfolio, .getPerson, .getAsset, .listPortfolios, .listPeople, .listSystemUsers, .listApps,
            .listOwnedAssets, .listAssignments, .listShares, .listShareRequests, .listTokens, .inspectToken:
            return try await self.read(step.op, args, options)
        case .lookupExternalId:
            return try await self.lookup(args, options)
        case .preview:
            return try await self.preview(args, options)
        case .sweepExpired:
            // No RPC sweeps: the server's sweeper calls the core, as this does.
            return .swept(try await self.server.portico.sweepExpiredAssignments().count)
        case .setExternalId:
            return .done(try await self.setExternalId(args, options))
        default:
            return .done(try await self.change(step.op, args, options))
        }
    }

    // MARK: - Arguments

    /// The id `reference` stands for: a bound name's id, or the literal number.
    func id(_ reference: Reference?) throws -> UInt64 {
        switch reference {
        case nil:
            throw ScenarioError.malformed("a step misses an id")
        case .literal(let id)?:
            return id
        case .bound(let name)?:
            guard let id = self.ids[name] else { throw ScenarioError.malformed("unbound @\(name)") }
            return id
        }
    }

    /// A principal by kind and id: the kind the step names (`principalKind`), else the kind of the step
    /// that bound it; a literal id (one that does not exist) is sent as a person.
    func principal(_ reference: Reference?, named: String? = nil) throws -> Principal {
        if let named {
            return Principal(kind: try Self.wireEnum("PRINCIPAL_KIND_", named), id: try self.id(reference))
        }
        let kind: PorticoWire.PrincipalKind =
            if case .bound(let name)? = reference { self.kinds[name] ?? .person } else { .person }
        return Principal(kind: kind, id: try self.id(reference))
    }

    /// The secret `reference` stands for. A literal id names no record: it becomes a well-formed secret
    /// (`<prefix>_<id>_<43 characters>`) whose digest matches nothing.
    func secret(_ reference: Reference, prefix: String) throws -> String {
        switch reference {
        case .bound(let name):
            guard let secret = self.secrets[name] else { throw ScenarioError.malformed("no secret bound to @\(name)") }
            return secret
        case .literal(let id):
            return "\(prefix)_\(id)_" + String(repeating: "A", count: 43)
        }
    }

    /// The call options of a caller: `operator`, `token:@t`, `service:@svc`, `service:@svc as @person`.
    func options(_ caller: CallerReference) throws -> CallOptions {
        switch caller {
        case .operator:
            return CallOptions()
        case .token(let token):
            return CallOptions(credential: try self.secret(token, prefix: "ptk"))
        case .service(let credential, let person):
            return CallOptions(
                credential: try self.secret(credential, prefix: "psk"),
                onBehalfOfPersonID: try person.map { try self.id($0) }
            )
        }
    }

    private func subject(principal: Reference?, kind: String?, token: Reference?) throws
        -> CheckPermissionRequest.Subject
    {
        if let token { return .token(try self.secret(token, prefix: "ptk")) }
        let principal = try self.principal(principal, named: kind)
        return principal.kind == .systemUser ? .systemUserID(principal.id) : .personID(principal.id)
    }

    private static func itemSubject(_ subject: CheckPermissionRequest.Subject) -> CheckItem.Subject {
        switch subject {
        case .personID(let id): .personID(id)
        case .systemUserID(let id): .systemUserID(id)
        case .token(let secret): .token(secret)
        case .personExternal(let ref): .personExternal(ref)
        case .systemUserExternal(let ref): .systemUserExternal(ref)
        }
    }

    static func task(_ name: String?) throws -> PorticoWire.AssetTask {
        guard let name else { throw ScenarioError.malformed("a step misses its task") }
        return try Self.wireEnum("ASSET_TASK_", name)
    }

    /// The wire value named `prefix + name` (e.g. `ASSET_TASK_` + `MANAGE`).
    static func wireEnum<E: WireEnum>(_ prefix: String, _ name: String) throws -> E {
        guard let value = E(protoValueName: prefix + name) else {
            throw ScenarioError.malformed("no \(E.protoName) \(prefix + name)")
        }
        return value
    }

    /// A page of a lookup: the core's `limit` (default 100) and `after` (an id), as page size and token.
    func page(_ args: Arguments) throws -> (size: UInt32, token: String) {
        let token = try args.after.map { String(try self.id($0)) } ?? ""
        return (try Self.pageSize(args.limit ?? 100), token)
    }

    private static func pageSize(_ limit: Int) throws -> UInt32 {
        guard let size = UInt32(exactly: limit) else { throw ScenarioError.malformed("bad limit \(limit)") }
        return size
    }

    /// A wire decision reason in the core's spelling: without `DECISION_REASON_`, and
    /// `TASK_NOT_VALID_FOR_ASSET_TYPE` as the core's `TASK_NOT_VALID_FOR_ASSET`.
    static func reason(_ reason: PorticoWire.DecisionReason) -> String {
        let name = String(reason.protoValueName.dropFirst("DECISION_REASON_".count))
        return name == "TASK_NOT_VALID_FOR_ASSET_TYPE" ? "TASK_NOT_VALID_FOR_ASSET" : name
    }
}
