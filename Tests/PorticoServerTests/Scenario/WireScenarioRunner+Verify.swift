import PorticoClient
import PorticoTestSupport
import PorticoWire

extension WireScenarioRunner {
    /// Compares a step's answer with its expectation, as the core's runner does, and returns every
    /// difference (empty when the answer is as expected); no expectation means "succeeds".
    ///
    /// What the wire carries differently from the core, and how it is compared:
    /// - `error`: the status code's name without `STATUS_CODE_`; `reason`: `ErrorDetail.reason`.
    /// - check reasons: the wire name without `DECISION_REASON_` (`TASK_NOT_VALID_FOR_ASSET_TYPE` is the
    ///   core's `TASK_NOT_VALID_FOR_ASSET`).
    /// - `listAssets` `tasks`: `AccessibleAsset` carries no tasks, so the tasks of each listed asset are
    ///   read from `ListAssetPrincipals` on that asset (as the operator): the effective tasks of the
    ///   same principal, which the core computes by the same rules.
    /// - `next`: the page token is the last id of the page (decimal); an empty token is `null`.
    /// - `auditEvents` `effectsOfLast`: the wire has the core's target and effects joined by "; " into
    ///   `summary`, so the effects are the parts after the first.
    /// - `authenticate` `caller`: the call succeeded; for `token:@t` also that InspectToken of the secret
    ///   names token `@t` and calls it valid. A service credential's id is not on the wire.
    /// - `explain` `rules`: each `ExplainStep`'s rule without `EXPLAIN_RULE_`, `!` in front when it did
    ///   not pass; every step must carry a detail.
    /// - `revision`: the change's `revision`; `secretShown`: a non-empty secret in the response.
    func verify(_ outcome: Result<Outcome, PorticoStatusError>, _ step: Step) async throws -> [String] {
        let expect = step.expect
        var differences: [String] = []
        let value: Outcome
        switch outcome {
        case .failure(let error):
            let name = String(error.code.protoValueName.dropFirst("STATUS_CODE_".count))
            return (expect ?? .succeeds).differences(failure: (name, error.detail?.reason, "\(error)")) ?? []
        case .success(let success):
            if let differences = expect?.differences(failure: nil) { return differences }
            value = success
        }
        guard let expect else { return [] }
        switch value {
        case .decision(let decision):
            differences += Self.compare(decision, allowed: expect.allowed, reason: expect.reason)
        case .explanation(let decision, let steps):
            differences += Self.compare(decision, allowed: expect.allowed, reason: expect.reason)
            if let rules = expect.rules {
                let got = steps.map {
                    ($0.passed ? "" : "!") + String($0.rule.protoValueName.dropFirst("EXPLAIN_RULE_".count))
                }
                if got != rules { differences.append("explain rules \(got), expected \(rules)") }
                if steps.contains(where: { $0.detail.isEmpty }) { differences.append("an explain step without detail") }
            }
        case .decisions(let decisions):
            let expected = expect.decisions ?? []
            if decisions.count != expected.count {
                differences.append("batch of \(decisions.count), expected \(expected.count)")
            }
            for (index, (decision, item)) in zip(decisions, expected).enumerated() {
                differences += Self.compare(decision, allowed: item.allowed, reason: item.reason)
                    .map { "check \(index + 1): \($0)" }
            }
        case .assets(let page):
            let ids = page.assets.map { $0.asset?.id ?? 0 }
            if let expected = expect.assets {
                let want = try expected.map { try self.id($0) }
                if ids != want { differences.append("assets \(ids), expected \(want)") }
            }
            if let tasks = expect.tasks {
                let principal = try self.id(step.args.principal)
                var got: [[String]] = []
                for asset in ids { got.append(try await self.effectiveTasks(of: principal, on: asset)) }
                if got != tasks { differences.append("asset tasks \(got), expected \(tasks)") }
            }
            differences += try self.compareNext(page.nextPageToken, expect)
        case .principals(let page):
            if let expected = expect.principals {
                let ids = page.principals.map { $0.principal?.id ?? 0 }
                let want = try expected.map { try self.id($0.principal) }
                if ids != want { differences.append("principals \(ids), expected \(want)") }
                for (item, wanted) in zip(page.principals, expected) {
                    if let tasks = wanted.tasks, Self.names(item.effectiveTasks) != tasks {
                        differences.append(
                            "tasks of principal \(item.principal?.id ?? 0): \(Self.names(item.effectiveTasks)), "
                                + "expected \(tasks)"
                        )
                    }
                }
            }
            differences += try self.compareNext(page.nextPageToken, expect)
        case .audit(let page):
            if let count = expect.count, page.events.count != count {
                differences.append("\(page.events.count) audit events, expected \(count)")
            }
            if let operations = expect.operations, page.events.map(\.operation) != operations {
                differences.append("audit operations \(page.events.map(\.operation)), expected \(operations)")
            }
            if let effects = expect.effectsOfLast {
                let got = page.events.last.map {
                    $0.summary.split(separator: "; ", omittingEmptySubsequences: false).count - 1
                }
                if got != effects {
                    differences.append(
                        "effects of last event: \(page.events.last?.summary ?? "none"), expected \(effects)")
                }
            }
            if let targets = expect.targets {
                let got = page.events.map {
                    "\($0.targetKind.protoValueName.dropFirst("TARGET_KIND_".count)):\($0.targetID)"
                }
                let want = try targets.map { text in
                    let (kind, reference) = try Expectation.target(text)
                    return "\(kind):\(try self.id(reference))"
                }
                if got != want { differences.append("audit targets \(got), expected \(want)") }
            }
            if let portfolios = expect.portfolios {
                let want = try portfolios.map { try self.id($0) }
                if page.events.map(\.portfolioID) != want {
                    differences.append("audit portfolios \(page.events.map(\.portfolioID)), expected \(want)")
                }
            }
        case .partners(let page):
            if let expected = expect.partners {
                let got = page.partners.map { [$0.portfolioID, $0.partnerPortfolioID] }
                let want = try expected.map { [try self.id($0.portfolio), try self.id($0.partner)] }
                if got != want { differences.append("partners \(got), expected \(want)") }
            }
        case .caller(let inspected):
            if case .token(let token)? = expect.caller {
                let want = try self.id(token)
                if inspected.token?.id != want || !inspected.valid {
                    differences.append(
                        "authenticated as token \(inspected.token?.id ?? 0) (valid: \(inspected.valid)), "
                            + "expected \(want)"
                    )
                }
            }
        case .ids(let ids, let owners):
            differences += try expect.differences(ids: ids, owners: owners, resolve: self.id)
        case .done(let done):
            differences += expect.differences(revision: done?.revision, secretShown: done?.secret != nil)
            differences += try self.differences(done, sameAs: expect.sameAs)
        case .preview(let preview):
            differences += try self.differences(preview, expect)
        case .swept(let count):
            if let expected = expect.count, count != expected {
                differences.append("the sweep made \(count) changes, expected \(expected)")
            }
        }
        return differences
    }

    private static func compare(_ decision: WireDecision, allowed: Bool?, reason: String?) -> [String] {
        Expectation.differences(allowed: decision.allowed, reason: decision.reason, expected: allowed, reason)
    }

    /// A wire page token (the last id of the page, decimal; "" for the last page) against `next`.
    private func compareNext(_ token: String, _ expected: Expectation) throws -> [String] {
        try expected.differences(next: token.isEmpty ? nil : UInt64(token), resolve: self.id)
    }

    /// The tasks `principal` can perform on `asset`, as ListAssetPrincipals answers the operator.
    private func effectiveTasks(of principal: UInt64, on asset: UInt64) async throws -> [String] {
        let page = try await self.client.listAssetPrincipals(ListAssetPrincipalsRequest(assetID: asset, pageSize: 1000))
        return Self.names(page.principals.first { $0.principal?.id == principal }?.effectiveTasks ?? [])
    }

    /// Task names in the core's spelling (`ASSET_TASK_MANAGE` is `MANAGE`).
    static func names(_ tasks: [PorticoWire.AssetTask]) -> [String] {
        tasks.map { String($0.protoValueName.dropFirst("ASSET_TASK_".count)) }
    }
}
