import Foundation
import PorticoCore
import Testing

/// Drives one scenario file through a fresh core: each step is an operation with arguments, the
/// acting caller, an optional `bind`, and an optional expectation (see Scenarios/README.md).
struct ScenarioRunner {
    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self { case .malformed(let text): "malformed scenario: \(text)" }
        }
    }

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
    }

    let portico: Portico
    let clock: ManualClock
    let file: String
    private(set) var ids: [String: UInt64] = [:]
    private(set) var secrets: [String: String] = [:]

    static func make(file: String) async throws -> ScenarioRunner {
        let clock = ManualClock()
        return ScenarioRunner(portico: try await Portico.open(clock: clock), clock: clock, file: file)
    }

    mutating func run(_ steps: [[String: Any]]) async throws {
        for (index, step) in steps.enumerated() {
            let where_ = "\(file) step \(index + 1) (\(step["op"] as? String ?? "?"))"
            let outcome: Result<Outcome, PorticoError>
            do {
                outcome = .success(try await perform(step))
            } catch let error as PorticoError {
                outcome = .failure(error)
            }
            try verify(outcome, step["expect"] as? [String: Any], at: where_)
            if case .success(.done(let result?)) = outcome, let name = step["bind"] as? String {
                ids[name] = result.createdID
                secrets[name] = result.secret
            }
        }
    }

    // MARK: - Performing a step

    private func perform(_ step: [String: Any]) async throws -> Outcome {
        guard let op = step["op"] as? String else { throw Failure.malformed("step without op") }
        let args = step["args"] as? [String: Any] ?? [:]
        let caller = try parseCaller(step["as"] as? String ?? "operator")
        let now = clock.now()
        let snapshot = portico.snapshot
        switch op {
        case "advanceClock":
            clock.advance(days: args["days"] as? Int ?? 0, milliseconds: Int64(args["milliseconds"] as? Int ?? 0))
            return .done(nil)
        case "check", "explain":
            let task = try parseTask(args["task"])
            let asset = AssetID(try id(args["asset"]))
            if args["token"] != nil {
                let token = TokenID(try id(args["token"]))
                return op == "check"
                    ? .decision(try snapshot.check(as: caller, token: token, asset: asset, task: task, now: now))
                    : .explanation(try snapshot.explain(as: caller, token: token, asset: asset, task: task, now: now))
            }
            let principal = PrincipalID(try id(args["principal"]))
            return op == "check"
                ? .decision(try snapshot.check(as: caller, principal: principal, asset: asset, task: task, now: now))
                : .explanation(try snapshot.explain(as: caller, principal: principal, asset: asset, task: task, now: now))
        case "checkBatch":
            let requests = try (args["checks"] as? [[String: Any]] ?? []).map { item in
                let subject: CheckRequest.Subject = item["token"] != nil
                    ? .token(TokenID(try id(item["token"]))) : .principal(PrincipalID(try id(item["principal"])))
                return CheckRequest(subject, asset: AssetID(try id(item["asset"])), task: try parseTask(item["task"]))
            }
            return .decisions(try snapshot.check(as: caller, batch: requests, now: now))
        case "listAssets":
            return .assets(try snapshot.assets(as: caller, of: PrincipalID(try id(args["principal"])),
                                               task: try args["task"].map(parseTask), page: try page(args), now: now))
        case "listPrincipals":
            return .principals(try snapshot.principals(as: caller, on: AssetID(try id(args["asset"])),
                                                       task: try args["task"].map(parseTask), page: try page(args),
                                                       now: now))
        case "listPartners":
            return .partners(try snapshot.partners(as: caller, of: PortfolioID(try id(args["portfolio"])),
                                                   page: try page(args), now: now))
        case "auditEvents":
            return .audit(try snapshot.auditEvents(as: caller, after: UInt64(args["after"] as? Int ?? 0),
                                                   portfolio: try args["portfolio"].map { PortfolioID(try id($0)) },
                                                   limit: args["limit"] as? Int ?? 100, now: now))
        case "authenticate":
            guard let text = args["secret"] as? String else { throw Failure.malformed("authenticate needs secret") }
            let secret = text.hasPrefix("@") ? (secrets[String(text.dropFirst())] ?? "") : text
            return .caller(try snapshot.authenticate(secret, now: now))
        default:
            return .done(try await portico.execute(try command(op, args), as: caller))
        }
    }

    private func command(_ op: String, _ args: [String: Any]) throws -> Command {
        func text(_ key: String) throws -> String {
            guard let value = args[key] as? String else { throw Failure.malformed("\(op) needs \(key)") }
            return value
        }
        func portfolio(_ key: String = "portfolio") throws -> PortfolioID { PortfolioID(try id(args[key])) }
        func principal(_ key: String = "principal") throws -> PrincipalID { PrincipalID(try id(args[key])) }
        func asset() throws -> AssetID { AssetID(try id(args["asset"])) }
        func role() throws -> Role { try parse(Role(rawValue: try text("role")), "role") }
        func tasks() throws -> TaskSet { TaskSet(try (args["tasks"] as? [String] ?? []).map { try parseTask($0) }) }
        switch op {
        case "createPortfolio":
            return .createPortfolio(name: try text("name"),
                                    tier: try parse(SystemUserTier(rawValue: args["tier"] as? String ?? "NONE"), "tier"))
        case "setPortfolioStatus":
            return .setPortfolioStatus(try portfolio(), try parse(PortfolioStatus(rawValue: try text("status")), "status"))
        case "setSystemUserTier":
            return .setSystemUserTier(try portfolio(), try parse(SystemUserTier(rawValue: try text("tier")), "tier"))
        case "issueServiceCredential": return .issueServiceCredential(name: try text("name"))
        case "revokeServiceCredential": return .revokeServiceCredential(CredentialID(try id(args["credential"])))
        case "addPerson": return .addPerson(try portfolio(), name: try text("name"), role: try role())
        case "setRole": return .setRole(try principal(), try role())
        case "removePrincipal": return .removePrincipal(try principal())
        case "createApp": return .createApp(try portfolio(), name: try text("name"))
        case "addSystemUser": return .addSystemUser(try portfolio(), name: try text("name"), role: try role())
        case "addAsset":
            return .addAsset(try portfolio(), type: try parse(AssetType(name: try text("type")), "type"),
                             name: try text("name"))
        case "removeAsset": return .removeAsset(try asset())
        case "assign": return .assign(try principal(), try asset(), try tasks())
        case "unassign": return .unassign(try principal(), try asset())
        case "share": return .share(try asset(), with: try portfolio("partner"), try tasks())
        case "unshare": return .unshare(try asset(), from: try portfolio("partner"))
        case "addPartner": return .addPartner(try portfolio(), partner: try portfolio("partner"))
        case "removePartner": return .removePartner(try portfolio(), partner: try portfolio("partner"))
        case "requestShare": return .requestShare(try asset(), by: try portfolio("requester"), try tasks())
        case "approveShareRequest": return .approveShareRequest(ShareRequestID(try id(args["request"])))
        case "declineShareRequest": return .declineShareRequest(ShareRequestID(try id(args["request"])))
        case "generateToken":
            let scopes = try (args["scopes"] as? [String] ?? []).map { try parse(Scope(name: $0), "scope \($0)") }
            return .generateToken(try principal("systemUser"), app: AppID(try id(args["app"])), scopes: ScopeSet(scopes),
                                  expiry: try parse(TokenExpiry(rawValue: args["expiry"] as? String ?? "NEVER"), "expiry"))
        case "revokeToken": return .revokeToken(TokenID(try id(args["token"])))
        case "revokeAllTokens": return .revokeAllTokens(try principal("systemUser"))
        default: throw Failure.malformed("unknown op \(op)")
        }
    }

    // MARK: - Arguments

    /// `@name` resolves to a bound id; a number is taken literally (for ids that do not exist).
    func id(_ value: Any?) throws -> UInt64 {
        if let number = value as? Int { return UInt64(number) }
        if let text = value as? String, let number = UInt64(text) { return number }
        guard let text = value as? String, text.hasPrefix("@") else { throw Failure.malformed("bad id \(String(describing: value))") }
        guard let bound = ids[String(text.dropFirst())] else { throw Failure.malformed("unbound \(text)") }
        return bound
    }

    private func parseTask(_ value: Any?) throws -> AssetTask {
        try parse((value as? String).flatMap(AssetTask.init(name:)), "task \(String(describing: value))")
    }

    private func parse<T>(_ value: T?, _ what: String) throws -> T {
        guard let value else { throw Failure.malformed("bad \(what)") }
        return value
    }

    private func page(_ args: [String: Any]) throws -> PageRequest {
        PageRequest(after: try args["after"].map { try id($0) }, limit: args["limit"] as? Int ?? 100)
    }

    /// `operator`, `service:@svc`, `service:@svc as @person`, `token:@tok`.
    func parseCaller(_ text: String) throws -> Caller {
        if text == "operator" { return .operator }
        if text.hasPrefix("token:") { return .systemUser(TokenID(try id(String(text.dropFirst(6))))) }
        if text.hasPrefix("service:") {
            let parts = text.dropFirst(8).components(separatedBy: " as ")
            let credential = CredentialID(try id(parts[0]))
            return .service(credential, onBehalfOf: parts.count > 1 ? PrincipalID(try id(parts[1])) : nil)
        }
        throw Failure.malformed("bad caller \(text)")
    }
}
