import Foundation
import PorticoClient
import PorticoCore
import PorticoWire

/// Drives one scenario file of the core's corpus (`Tests/PorticoCoreTests/Scenarios`, format in its
/// README.md) through a live server and the Swift client over loopback TCP, with the semantics of the
/// core's own runner (`Tests/PorticoCoreTests/Scenario/ScenarioRunner.swift`):
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
    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self { case .malformed(let text): "malformed scenario: \(text)" }
        }
    }

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
    }

    /// A difference between what a step answered and what it expected.
    struct Mismatch: CustomStringConvertible {
        var step: Int
        var text: String
        var description: String { text }
    }

    let server: TestServer
    let client: PorticoClient
    let file: String
    private(set) var ids: [String: UInt64] = [:]
    private(set) var secrets: [String: String] = [:]
    private(set) var kinds: [String: PorticoWire.PrincipalKind] = [:]

    init(server: TestServer, client: PorticoClient, file: String) {
        self.server = server
        self.client = client
        self.file = file
    }

    /// Runs every step and returns where the answers differ from the expectations. A malformed step (or
    /// one that names something an earlier, differing step failed to bind) ends the run as a mismatch.
    mutating func run(_ steps: [[String: Any]]) async -> [Mismatch] {
        var mismatches: [Mismatch] = []
        for (index, step) in steps.enumerated() {
            let number = index + 1
            let place = "\(self.file) step \(number) (\(step["op"] as? String ?? "?"))"
            do {
                let outcome: Result<Outcome, PorticoStatusError>
                do {
                    outcome = .success(try await self.perform(step))
                } catch let error as PorticoStatusError {
                    outcome = .failure(error)
                }
                for text in try await self.verify(outcome, step["expect"] as? [String: Any], step) {
                    mismatches.append(Mismatch(step: number, text: "\(place): \(text)"))
                }
                if case .success(.done(let done?)) = outcome, let name = step["bind"] as? String {
                    self.ids[name] = done.createdID
                    self.secrets[name] = done.secret
                    self.kinds[name] = done.kind
                }
            } catch {
                mismatches.append(Mismatch(step: number, text: "\(place): \(error)"))
                break
            }
        }
        return mismatches
    }

    // MARK: - Performing a step

    private func perform(_ step: [String: Any]) async throws -> Outcome {
        guard let op = step["op"] as? String else { throw Failure.malformed("step without op") }
        let args = step["args"] as? [String: Any] ?? [:]
        let options = try self.options(step["as"] as? String ?? "operator")
        switch op {
        case "advanceClock":
            self.server.clock.advance(days: args["days"] as? Int ?? 0, milliseconds: Int64(args["milliseconds"] as? Int ?? 0))
            return .done(nil)
        case "check", "explain":
            let request = CheckPermissionRequest(
                assetID: try self.id(args["asset"]),
                task: try self.task(args["task"]),
                explain: op == "explain",
                subject: try self.subject(args)
            )
            let response = try await self.client.checkPermission(request, options: options)
            let decision = WireDecision(allowed: response.allowed, reason: Self.reason(response.reason))
            return op == "explain" ? .explanation(decision, response.explanation) : .decision(decision)
        case "checkBatch":
            let items = try (args["checks"] as? [[String: Any]] ?? []).map { item in
                CheckItem(assetID: try self.id(item["asset"]), task: try self.task(item["task"]), subject: try self.itemSubject(item))
            }
            let response = try await self.client.batchCheckPermissions(BatchCheckPermissionsRequest(checks: items), options: options)
            return .decisions(response.results.map { WireDecision(allowed: $0.allowed, reason: Self.reason($0.reason)) })
        case "listAssets":
            let page = try self.page(args)
            let request = ListAccessibleAssetsRequest(
                principal: try self.principal(args["principal"]),
                task: try args["task"].map { try self.task($0) } ?? .unspecified,
                pageSize: page.size,
                pageToken: page.token
            )
            return .assets(try await self.client.listAccessibleAssets(request, options: options))
        case "listPrincipals":
            let page = try self.page(args)
            let request = ListAssetPrincipalsRequest(
                assetID: try self.id(args["asset"]),
                task: try args["task"].map { try self.task($0) } ?? .unspecified,
                pageSize: page.size,
                pageToken: page.token
            )
            return .principals(try await self.client.listAssetPrincipals(request, options: options))
        case "listPartners":
            let page = try self.page(args)
            let request = ListPartnersRequest(portfolioID: try self.id(args["portfolio"]), pageSize: page.size, pageToken: page.token)
            return .partners(try await self.client.listPartners(request, options: options))
        case "auditEvents":
            // The core's default limit is 100, as is the wire's page_size 0.
            let request = ListAuditEventsRequest(
                afterRevision: UInt64(args["after"] as? Int ?? 0),
                portfolioID: try args["portfolio"].map { try self.id($0) } ?? 0,
                pageSize: try Self.pageSize(args["limit"] as? Int ?? 100)
            )
            return .audit(try await self.client.listAuditEvents(request, options: options))
        case "authenticate":
            // No RPC authenticates alone: InspectToken needs a credential, so the secret is presented as the
            // call's credential, and also as the token to inspect, which names the token a token secret
            // stands for (compared with `token:@t`). See `verify` for what is compared.
            guard let text = args["secret"] as? String else { throw Failure.malformed("authenticate needs secret") }
            let secret = text.hasPrefix("@") ? (self.secrets[String(text.dropFirst())] ?? "") : text
            return .caller(try await self.client.inspectToken(InspectTokenRequest(token: secret), options: CallOptions(credential: secret)))
        default:
            return .done(try await self.change(op, args, options))
        }
    }

    // swift-format-ignore
    private func change(_ op: String, _ args: [String: Any], _ options: CallOptions) async throws -> Done {
        func text(_ key: String) throws -> String {
            guard let value = args[key] as? String else { throw Failure.malformed("\(op) needs \(key)") }
            return value
        }
        func id(_ key: String) throws -> UInt64 { try self.id(args[key]) }
        func role() throws -> PorticoWire.Role { try Self.wireEnum("ROLE_", try text("role")) }
        func tasks() throws -> [PorticoWire.AssetTask] { try (args["tasks"] as? [String] ?? []).map { try self.task($0) } }
        let client = self.client
        switch op {
        case "createPortfolio":
            let tier: PorticoWire.SystemUserTier = try Self.wireEnum("SYSTEM_USER_TIER_", args["tier"] as? String ?? "NONE")
            let response = try await client.createPortfolio(.init(name: try text("name"), systemUserTier: tier), options: options)
            return Done(createdID: response.portfolio?.id, revision: response.revision)
        case "setPortfolioStatus":
            let request = SetPortfolioStatusRequest(portfolioID: try id("portfolio"), status: try Self.wireEnum("PORTFOLIO_STATUS_", try text("status")))
            return Done(revision: try await client.setPortfolioStatus(request, options: options).revision)
        case "setSystemUserTier":
            let request = SetSystemUserTierRequest(portfolioID: try id("portfolio"), systemUserTier: try Self.wireEnum("SYSTEM_USER_TIER_", try text("tier")))
            return Done(revision: try await client.setSystemUserTier(request, options: options).revision)
        case "issueServiceCredential":
            let response = try await client.createServiceCredential(.init(name: try text("name")), options: options)
            return Done(createdID: response.credential?.id, secret: Self.shown(response.secret), revision: response.revision)
        case "revokeServiceCredential":
            return Done(revision: try await client.revokeServiceCredential(.init(credentialID: try id("credential")), options: options).revision)
        case "addPerson":
            let response = try await client.addPerson(.init(portfolioID: try id("portfolio"), name: try text("name"), role: try role()), options: options)
            return Done(createdID: response.person?.id, revision: response.revision, kind: .person)
        case "setRole":
            // SetPersonRole is the only RPC that sets a role; a system user's id is sent through it as well.
            let response = try await client.setPersonRole(.init(personID: try id("principal"), role: try role()), options: options)
            return Done(revision: response.revision)
        case "removePrincipal":
            let principal = try self.principal(args["principal"])
            if principal.kind == .systemUser {
                return Done(revision: try await client.removeSystemUser(.init(systemUserID: principal.id), options: options).revision)
            }
            return Done(revision: try await client.removePerson(.init(personID: principal.id), options: options).revision)
        case "createApp":
            let response = try await client.addApp(.init(portfolioID: try id("portfolio"), name: try text("name")), options: options)
            return Done(createdID: response.app?.id, secret: Self.shown(response.appSecret), revision: response.revision)
        case "addSystemUser":
            let request = CreateSystemUserRequest(portfolioID: try id("portfolio"), name: try text("name"), role: try role())
            let response = try await client.createSystemUser(request, options: options)
            return Done(createdID: response.systemUser?.id, revision: response.revision, kind: .systemUser)
        case "addAsset":
            let request = AddAssetRequest(portfolioID: try id("portfolio"), type: try Self.wireEnum("ASSET_TYPE_", try text("type")), name: try text("name"))
            let response = try await client.addAsset(request, options: options)
            return Done(createdID: response.asset?.id, revision: response.revision)
        case "removeAsset":
            return Done(revision: try await client.removeAsset(.init(assetID: try id("asset")), options: options).revision)
        case "assign":
            let request = AssignTasksRequest(principal: try self.principal(args["principal"]), assetID: try id("asset"), tasks: try tasks())
            return Done(revision: try await client.assignTasks(request, options: options).revision)
        case "unassign":
            let request = UnassignTasksRequest(principal: try self.principal(args["principal"]), assetID: try id("asset"))
            return Done(revision: try await client.unassignTasks(request, options: options).revision)
        case "share":
            let request = ShareAssetRequest(assetID: try id("asset"), partnerPortfolioID: try id("partner"), tasks: try tasks())
            return Done(revision: try await client.shareAsset(request, options: options).revision)
        case "unshare":
            let request = UnshareAssetRequest(assetID: try id("asset"), partnerPortfolioID: try id("partner"))
            return Done(revision: try await client.unshareAsset(request, options: options).revision)
        case "addPartner":
            let request = AddPartnerRequest(portfolioID: try id("portfolio"), partnerPortfolioID: try id("partner"))
            return Done(revision: try await client.addPartner(request, options: options).revision)
        case "removePartner":
            let request = RemovePartnerRequest(portfolioID: try id("portfolio"), partnerPortfolioID: try id("partner"))
            return Done(revision: try await client.removePartner(request, options: options).revision)
        case "requestShare":
            let request = RequestShareRequest(portfolioID: try id("requester"), assetID: try id("asset"), tasks: try tasks())
            let response = try await client.requestShare(request, options: options)
            return Done(createdID: response.shareRequest?.id, revision: response.revision)
        case "approveShareRequest":
            return Done(revision: try await client.approveShareRequest(.init(shareRequestID: try id("request")), options: options).revision)
        case "declineShareRequest":
            return Done(revision: try await client.declineShareRequest(.init(shareRequestID: try id("request")), options: options).revision)
        case "generateToken":
            let scopes: [PorticoWire.Scope] = try (args["scopes"] as? [String] ?? []).map { try Self.wireEnum("SCOPE_", $0.uppercased()) }
            let expiry: PorticoWire.TokenExpiry = try Self.wireEnum("TOKEN_EXPIRY_", args["expiry"] as? String ?? "NEVER")
            let request = GenerateTokenRequest(systemUserID: try id("systemUser"), appID: try id("app"), scopes: scopes, expiry: expiry)
            let response = try await client.generateToken(request, options: options)
            return Done(createdID: response.token?.id, secret: Self.shown(response.secret), revision: response.revision)
        case "revokeToken":
            return Done(revision: try await client.revokeToken(.init(tokenID: try id("token")), options: options).revision)
        case "revokeAllTokens":
            return Done(revision: try await client.revokeAllTokens(.init(systemUserID: try id("systemUser")), options: options).revision)
        default:
            throw Failure.malformed("unknown op \(op)")
        }
    }

    // MARK: - Arguments

    /// `@name` resolves to a bound id; a number is taken literally (for ids that do not exist).
    func id(_ value: Any?) throws -> UInt64 {
        if let number = value as? Int { return UInt64(number) }
        if let text = value as? String, let number = UInt64(text) { return number }
        guard let text = value as? String, text.hasPrefix("@") else { throw Failure.malformed("bad id \(String(describing: value))") }
        guard let bound = self.ids[String(text.dropFirst())] else { throw Failure.malformed("unbound \(text)") }
        return bound
    }

    /// A principal by kind and id: the kind of the step that bound it; a literal id (one that does not
    /// exist) is sent as a person.
    func principal(_ value: Any?) throws -> Principal {
        let kind = (value as? String).flatMap { $0.hasPrefix("@") ? self.kinds[String($0.dropFirst())] : nil } ?? .person
        return Principal(kind: kind, id: try self.id(value))
    }

    /// The secret `reference` (`@name` or a literal id) stands for. A literal id names no record: it
    /// becomes a well-formed secret (`<prefix>_<id>_<43 characters>`) whose digest matches nothing.
    func secret(_ reference: String, prefix: String) throws -> String {
        if reference.hasPrefix("@") {
            guard let secret = self.secrets[String(reference.dropFirst())] else { throw Failure.malformed("no secret bound to \(reference)") }
            return secret
        }
        guard UInt64(reference) != nil else { throw Failure.malformed("bad reference \(reference)") }
        return "\(prefix)_\(reference)_" + String(repeating: "A", count: 43)
    }

    /// The call options of a caller: `operator`, `token:@t`, `service:@svc`, `service:@svc as @person`.
    func options(_ text: String) throws -> CallOptions {
        if text == "operator" { return CallOptions() }
        if text.hasPrefix("token:") { return CallOptions(credential: try self.secret(String(text.dropFirst(6)), prefix: "ptk")) }
        if text.hasPrefix("service:") {
            let parts = text.dropFirst(8).components(separatedBy: " as ")
            let person = parts.count > 1 ? try self.id(parts[1]) : nil
            return CallOptions(credential: try self.secret(parts[0], prefix: "psk"), onBehalfOfPersonID: person)
        }
        throw Failure.malformed("bad caller \(text)")
    }

    private func subject(_ args: [String: Any]) throws -> CheckPermissionRequest.Subject {
        if let token = args["token"] { return .token(try self.secret(try Self.reference(token), prefix: "ptk")) }
        let principal = try self.principal(args["principal"])
        return principal.kind == .systemUser ? .systemUserID(principal.id) : .personID(principal.id)
    }

    private func itemSubject(_ args: [String: Any]) throws -> CheckItem.Subject {
        switch try self.subject(args) {
        case .personID(let id): .personID(id)
        case .systemUserID(let id): .systemUserID(id)
        case .token(let secret): .token(secret)
        }
    }

    private static func reference(_ value: Any) throws -> String {
        if let number = value as? Int { return String(number) }
        guard let text = value as? String else { throw Failure.malformed("bad reference \(value)") }
        return text
    }

    private func task(_ value: Any?) throws -> PorticoWire.AssetTask {
        guard let name = value as? String else { throw Failure.malformed("bad task \(String(describing: value))") }
        return try Self.wireEnum("ASSET_TASK_", name)
    }

    /// The wire value named `prefix + name` (e.g. `ASSET_TASK_` + `MANAGE`).
    static func wireEnum<E: WireEnum>(_ prefix: String, _ name: String) throws -> E {
        guard let value = E(protoValueName: prefix + name) else { throw Failure.malformed("no \(E.protoName) \(prefix + name)") }
        return value
    }

    /// A page of a lookup: the core's `limit` (default 100) and `after` (an id), as page size and token.
    private func page(_ args: [String: Any]) throws -> (size: UInt32, token: String) {
        let token = try args["after"].map { String(try self.id($0)) } ?? ""
        return (try Self.pageSize(args["limit"] as? Int ?? 100), token)
    }

    private static func pageSize(_ limit: Int) throws -> UInt32 {
        guard let size = UInt32(exactly: limit) else { throw Failure.malformed("bad limit \(limit)") }
        return size
    }

    private static func shown(_ secret: String) -> String? { secret.isEmpty ? nil : secret }

    /// A wire decision reason in the core's spelling: without `DECISION_REASON_`, and
    /// `TASK_NOT_VALID_FOR_ASSET_TYPE` as the core's `TASK_NOT_VALID_FOR_ASSET`.
    static func reason(_ reason: PorticoWire.DecisionReason) -> String {
        let name = String(reason.protoValueName.dropFirst("DECISION_REASON_".count))
        return name == "TASK_NOT_VALID_FOR_ASSET_TYPE" ? "TASK_NOT_VALID_FOR_ASSET" : name
    }
}
