import HashTreeCollections
import NIOCore
import PorticoCore
import PorticoWire

/// Checks and access lookups: answered on the event loop from one snapshot, without awaiting.
extension Dispatcher {
    func checkPermission(_ request: CheckPermissionRequest, context: inout CallContext) throws
        -> CheckPermissionResponse
    {
        let caller = context.caller
        let snapshot = try self.snapshot(atLeast: request.minRevision)
        let (subject, kind) = try self.subject(request.subject, snapshot, &context)
        let task = try WireMapping.task(request.task)
        let asset = try Self.asset(request.assetID, request.assetExternal, snapshot)
        let now = self.portico.clock.now()
        if request.explain {
            let explanation = try self.explain(caller, subject, kind, asset, task, snapshot, now)
            return CheckPermissionResponse(
                allowed: explanation.decision.allowed,
                reason: WireMapping.wire(explanation.decision.reason),
                revision: explanation.decision.revision,
                explanation: Self.steps(explanation)
            )
        }
        let decision: Decision
        switch subject {
        case .principal(let principal):
            decision = try snapshot.check(
                as: caller, principal: principal, kind: kind, asset: asset, task: task, now: now)
        case .token(let token):
            decision = try snapshot.check(as: caller, token: token, asset: asset, task: task, now: now)
        }
        return CheckPermissionResponse(
            allowed: decision.allowed,
            reason: WireMapping.wire(decision.reason),
            revision: decision.revision
        )
    }

    /// Holds a body to the limits its bytes can show before it is decoded: a batch's checks are counted
    /// in one pass over them, so an oversized batch is refused for no more than that pass. Every
    /// transport calls it between authenticating the caller and decoding the body.
    /// - Throws: INVALID_ARGUMENT for a batch over `maxBatchChecks`, or bytes that are not protobuf.
    func admit(_ method: Method, body: ByteBuffer) throws {
        guard method == .batchCheckPermissions else { return }
        let items: Int
        do {
            items = try WireScanner.occurrences(ofField: 1, in: body)
        } catch {
            throw CallFailure(any: error)
        }
        try self.requireBatchSize(items)
    }

    private func requireBatchSize(_ count: Int) throws {
        guard count <= self.configuration.maxBatchChecks else {
            throw CallFailure.invalid(
                "a batch holds at most \(self.configuration.maxBatchChecks) checks, not \(count)",
                field: "checks"
            )
        }
    }

    func batchCheckPermissions(_ request: BatchCheckPermissionsRequest, context: inout CallContext) throws
        -> BatchCheckPermissionsResponse
    {
        try self.requireBatchSize(request.checks.count)
        let caller = context.caller
        let snapshot = try self.snapshot(atLeast: request.minRevision)
        var checks: [CheckRequest] = []
        checks.reserveCapacity(request.checks.count)
        for item in request.checks {
            let (subject, kind) = try self.subject(item.subject.map(Self.itemSubject), snapshot, &context)
            checks.append(
                CheckRequest(
                    subject, kind: kind, asset: try Self.asset(item.assetID, item.assetExternal, snapshot),
                    task: try WireMapping.task(item.task)))
        }
        let now = self.portico.clock.now()
        let results: [CheckResult]
        if request.explain {
            results = try checks.map { check in
                let explanation = try self.explain(
                    caller, check.subject, check.kind, check.asset, check.task, snapshot, now)
                return CheckResult(
                    allowed: explanation.decision.allowed,
                    reason: WireMapping.wire(explanation.decision.reason),
                    explanation: Self.steps(explanation)
                )
            }
        } else {
            results = try snapshot.check(as: caller, batch: checks, now: now).map {
                CheckResult(allowed: $0.allowed, reason: WireMapping.wire($0.reason))
            }
        }
        return BatchCheckPermissionsResponse(results: results, revision: snapshot.revision)
    }

    func listAccessibleAssets(_ request: ListAccessibleAssetsRequest, context: inout CallContext) throws
        -> ListAccessibleAssetsResponse
    {
        let caller = context.caller
        let snapshot = try self.snapshot(atLeast: request.minRevision)
        let (principal, kind) = try Self.principal(request.principal)
        let type = WireMapping.optionalAssetType(request.assetType)
        let page = try Self.page(request.pageSize, request.pageToken)
        let task = WireMapping.optionalTask(request.task)
        var found: [AccessibleAsset] = []
        var cursor = page.after
        var more = false
        // The core pages over every accessible asset; with a type filter, keep reading its pages until
        // this page fills, and announce a next page only if another matching asset exists.
        scan: while true {
            let result = try snapshot.assets(
                as: caller,
                of: principal,
                kind: kind,
                task: task,
                page: PageRequest(after: cursor, limit: page.limit),
                now: self.portico.clock.now()
            )
            for access in result.items where type == nil || access.type == type {
                guard let asset = snapshot.state.assets[access.asset] else { continue }
                if found.count == page.limit {
                    more = true
                    break scan
                }
                found.append(
                    AccessibleAsset(
                        asset: Self.asset(asset),
                        reason: Self.accessReason(asset, principal, snapshot),
                        effectiveTasks: WireMapping.wire(access.tasks)
                    )
                )
            }
            guard let next = result.nextPageToken else { break }
            cursor = next
        }
        let next = more ? found.last?.asset?.id : nil
        return ListAccessibleAssetsResponse(assets: found, nextPageToken: Self.token(next), revision: snapshot.revision)
    }

    func listAssetPrincipals(_ request: ListAssetPrincipalsRequest, context: inout CallContext) throws
        -> ListAssetPrincipalsResponse
    {
        let caller = context.caller
        let snapshot = try self.snapshot(atLeast: request.minRevision)
        let asset = AssetID(request.assetID)
        let page = try snapshot.principals(
            as: caller,
            on: asset,
            task: WireMapping.optionalTask(request.task),
            page: try Self.page(request.pageSize, request.pageToken),
            now: self.portico.clock.now()
        )
        let principals = page.items.map { access in
            PorticoWire.PrincipalAccess(
                principal: Self.principal(access.principal, snapshot),
                portfolioID: access.portfolio.rawValue,
                effectiveTasks: WireMapping.wire(access.tasks),
                reason: snapshot.state.assets[asset].map { Self.accessReason($0, access.principal, snapshot) }
                    ?? .unspecified
            )
        }
        return ListAssetPrincipalsResponse(
            principals: principals,
            nextPageToken: Self.token(page.nextPageToken),
            revision: snapshot.revision
        )
    }

    func listAuditEvents(_ request: ListAuditEventsRequest, context: inout CallContext) throws
        -> ListAuditEventsResponse
    {
        let caller = context.caller
        let snapshot = self.portico.snapshot
        let limit = try Self.page(request.pageSize, "").limit
        let after = request.pageToken.isEmpty ? request.afterRevision : try Self.after(request.pageToken)
        let portfolio = request.portfolioID == 0 ? nil : PortfolioID(request.portfolioID)
        let page = try snapshot.auditEvents(
            as: caller,
            after: after,
            portfolio: portfolio,
            limit: limit,
            now: self.portico.clock.now()
        )
        return ListAuditEventsResponse(
            events: page.items.map { Self.auditEvent($0, snapshot.state) },
            nextPageToken: Self.token(page.nextPageToken),
            revision: snapshot.revision
        )
    }

    // MARK: helpers

    private static func itemSubject(_ subject: CheckItem.Subject) -> CheckPermissionRequest.Subject {
        switch subject {
        case .personID(let id): .personID(id)
        case .systemUserID(let id): .systemUserID(id)
        case .token(let token): .token(token)
        case .personExternal(let ref): .personExternal(ref)
        case .systemUserExternal(let ref): .systemUserExternal(ref)
        }
    }

    /// The subject of a check, with the kind a principal is named as; a token secret becomes the token
    /// it names, once its hash matches.
    private func subject(
        _ subject: CheckPermissionRequest.Subject?,
        _ snapshot: AccessSnapshot,
        _ context: inout CallContext
    ) throws -> (CheckRequest.Subject, PrincipalKindTag?) {
        switch subject {
        case .personID(let id):
            return (.principal(PrincipalID(id)), .person)
        case .systemUserID(let id):
            return (.principal(PrincipalID(id)), .systemUser)
        case .personExternal(let ref):
            let name = try Self.name(.person, ref, snapshot, field: "person_external")
            return (.principal(PrincipalID(snapshot.id(of: name))), .person)
        case .systemUserExternal(let ref):
            let name = try Self.name(.systemUser, ref, snapshot, field: "system_user_external")
            return (.principal(PrincipalID(snapshot.id(of: name))), .systemUser)
        case .token(let secret):
            if let known = context.presentedTokens[secret] { return (.token(known), nil) }
            // A secret that names no token checks as an unknown token: the core denies TOKEN_NOT_FOUND.
            guard let token = snapshot.token(presentedSecret: secret) else { return (.token(TokenID(0)), nil) }
            context.presentedTokens[secret] = token
            return (.token(token), nil)
        case nil:
            throw CallFailure.invalid("a check needs a subject: person_id, system_user_id or token", field: "subject")
        }
    }

    private func explain(
        _ caller: Caller,
        _ subject: CheckRequest.Subject,
        _ kind: PrincipalKindTag?,
        _ asset: AssetID,
        _ task: PorticoCore.AssetTask,
        _ snapshot: AccessSnapshot,
        _ now: Timestamp
    ) throws -> Explanation {
        switch subject {
        case .principal(let principal):
            try snapshot.explain(as: caller, principal: principal, kind: kind, asset: asset, task: task, now: now)
        case .token(let token):
            try snapshot.explain(as: caller, token: token, asset: asset, task: task, now: now)
        }
    }

    static func steps(_ explanation: Explanation) -> [ExplainStep] {
        explanation.steps.map { ExplainStep(rule: WireMapping.wire($0.rule), passed: $0.passed, detail: $0.detail) }
    }

    /// Why `principal` reaches `asset`: its own portfolio's, or through a share.
    static func accessReason(_ asset: AssetRecord, _ principal: PrincipalID, _ snapshot: AccessSnapshot)
        -> WireDecisionReason
    {
        guard let record = snapshot.state.principals[principal] else { return .unspecified }
        if record.portfolio == asset.owner { return record.role == .admin ? .adminRole : .assigned }
        return record.role == .admin ? .sharedAdminRole : .sharedAssigned
    }
}
