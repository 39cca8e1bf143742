import HashTreeCollections

/// Checks and lookups on behalf of a caller: "who may call what" first, then the answer.
///
/// What the answer may say follows docs/model.md, "What an outsider learns": a caller who does not see
/// everything is told nothing of an asset that is neither owned by nor shared with the subject's
/// portfolio. Such a check denies `NOT_SHARED` whether the asset exists or not, whatever its owner's
/// status and its type; the operator and services, who see everything, get the precise reason.
extension AccessSnapshot {
    /// Checks `principal` for `caller`.
    /// - Parameter kind: the kind the caller names the principal as, if it names one.
    /// - Throws: UNAUTHENTICATED for an unusable credential, PERMISSION_DENIED when the caller may not
    ///   ask about this principal, INVALID_ARGUMENT (`WRONG_PRINCIPAL_KIND`) for a principal of the other kind.
    public func check(
        as caller: Caller, principal: PrincipalID, kind: PrincipalKindTag? = nil, asset: AssetID,
        task: AssetTask, now: Timestamp
    ) throws -> Decision {
        let view = try state.visibility(of: caller, now: now)
        try state.authorize(view, subject: principal)
        try state.requireKind(principal, kind)
        let decision = check(principal: principal, asset: asset, task: task, now: now)
        return view == .everything ? decision : outsiderDecision(decision, principal: principal, asset: asset)
    }

    /// Checks a token for `caller`.
    public func check(
        as caller: Caller, token: TokenID, asset: AssetID, task: AssetTask,
        now: Timestamp
    ) throws -> Decision {
        let view = try state.visibility(of: caller, now: now)
        try state.authorize(view, token: token)
        let decision = check(token: token, asset: asset, task: task, now: now)
        guard view != .everything, let principal = state.tokens[token]?.principal else { return decision }
        return outsiderDecision(decision, principal: principal, asset: asset)
    }

    /// Explains a principal check for `caller`.
    public func explain(
        as caller: Caller, principal: PrincipalID, kind: PrincipalKindTag? = nil, asset: AssetID,
        task: AssetTask, now: Timestamp
    ) throws -> Explanation {
        let view = try state.visibility(of: caller, now: now)
        try state.authorize(view, subject: principal)
        try state.requireKind(principal, kind)
        let explanation = explain(principal: principal, asset: asset, task: task, now: now)
        return view == .everything ? explanation : outsiderExplanation(explanation, principal: principal, asset: asset)
    }

    /// Explains a token check for `caller`.
    public func explain(
        as caller: Caller, token: TokenID, asset: AssetID, task: AssetTask,
        now: Timestamp
    ) throws -> Explanation {
        let view = try state.visibility(of: caller, now: now)
        try state.authorize(view, token: token)
        let explanation = explain(token: token, asset: asset, task: task, now: now)
        guard view != .everything, let principal = state.tokens[token]?.principal else { return explanation }
        return outsiderExplanation(explanation, principal: principal, asset: asset)
    }

    /// A batch for `caller`: all answered at this snapshot's revision, or none if any subject is off-limits.
    public func check(as caller: Caller, batch requests: [CheckRequest], now: Timestamp) throws -> [Decision] {
        let view = try state.visibility(of: caller, now: now)
        for request in requests {
            switch request.subject {
            case .principal(let principal):
                try state.authorize(view, subject: principal)
                try state.requireKind(principal, request.kind)
            case .token(let token):
                try state.authorize(view, token: token)
            }
        }
        let decisions = check(batch: requests, now: now)
        guard view != .everything else { return decisions }
        return zip(requests, decisions).map { request, decision in
            let principal: PrincipalID? =
                switch request.subject {
                case .principal(let principal): principal
                case .token(let token): state.tokens[token]?.principal
                }
            guard let principal else { return decision }
            return outsiderDecision(decision, principal: principal, asset: request.asset)
        }
    }

    /// The assets `principal` can work on, for `caller`.
    /// - Parameter kind: the kind the caller names the principal as, if it names one.
    public func assets(
        as caller: Caller, of principal: PrincipalID, kind: PrincipalKindTag? = nil,
        task: AssetTask? = nil, page: PageRequest = PageRequest(),
        now: Timestamp
    ) throws -> Page<AssetAccess> {
        try state.authorize(state.visibility(of: caller, now: now), subject: principal)
        try state.requireKind(principal, kind)
        return try assets(of: principal, task: task, page: page, now: now)
    }

    /// The principals with access to `asset`, for `caller` (the owner's admins, services, the operator).
    /// - Throws: PERMISSION_DENIED for anyone else, whether the asset exists or not; NOT_FOUND for an
    ///   asset that does not exist, to the operator and services.
    public func principals(
        as caller: Caller, on asset: AssetID, task: AssetTask? = nil,
        page: PageRequest = PageRequest(), now: Timestamp
    ) throws -> Page<PrincipalAccess> {
        let view = try state.visibility(of: caller, now: now)
        guard let record = state.assets[asset] else {
            if view == .everything { throw PorticoError.notFound("asset \(asset)") }
            throw PorticoError.denied("only an admin of the owner may list who has access to asset \(asset)")
        }
        try state.authorize(view, assetReaders: record)
        return try principals(on: asset, task: task, page: page, now: now)
    }

    /// The partnerships of `portfolio`, for its admins, services and the operator.
    public func partners(
        as caller: Caller, of portfolio: PortfolioID, page: PageRequest = PageRequest(),
        now: Timestamp
    ) throws -> Page<PartnershipRecord> {
        let view = try state.visibility(of: caller, now: now)
        try state.authorize(view, portfolio: portfolio)
        _ = try state.portfolioRecord(portfolio)
        return try partners(of: portfolio, page: page)
    }

    /// Audit events after `revision` for `caller`: every portfolio's (`portfolio` nil) or one's for the
    /// operator and services; its own portfolio's for an admin (an admin system user with
    /// business_management, or an ADMIN person a service acts for), who must name it.
    /// - Throws: PERMISSION_DENIED for anyone else, or an admin asking for every portfolio or another
    ///   one (whether it exists or not); NOT_FOUND for an unknown portfolio, to those who see everything.
    public func auditEvents(
        as caller: Caller, after revision: Revision, portfolio: PortfolioID? = nil,
        limit: Int = 100, now: Timestamp
    ) throws -> Page<AuditEvent> {
        try authorizeAuditEvents(as: caller, portfolio: portfolio, now: now)
        return try auditEvents(after: revision, portfolio: portfolio, limit: limit)
    }

    /// Whether `caller` may read the audit events of `portfolio` (every portfolio's when nil): the rule
    /// of `auditEvents(as:after:portfolio:limit:now:)`, which a Watch stream follows too.
    /// - Throws: as `auditEvents(as:after:portfolio:limit:now:)`.
    public func authorizeAuditEvents(as caller: Caller, portfolio: PortfolioID?, now: Timestamp) throws {
        let view = try state.visibility(of: caller, now: now)
        if let portfolio {
            try state.authorize(view, portfolio: portfolio)
            _ = try state.portfolioRecord(portfolio)
        } else if view != .everything {
            throw PorticoError.denied("only the operator and services read every portfolio's audit events")
        }
    }

    // MARK: what an outsider is told

    /// Whether `asset` is one the portfolio of `principal` works on: its own, or shared with it.
    private func reaches(_ principal: PrincipalID, _ asset: AssetID) -> Bool {
        guard let home = state.checkIndex.principal(principal)?.portfolio,
            let owner = state.checkIndex.asset(asset)?.owner
        else { return false }
        return owner == home || state.checkIndex.share(asset, with: home) != nil
    }

    /// A denial about an asset the subject's portfolio does not reach, as a caller who does not see
    /// everything is told it: `NOT_SHARED`, the same whether the asset exists or not.
    private func outsiderDecision(_ decision: Decision, principal: PrincipalID, asset: AssetID) -> Decision {
        switch decision.reason {
        case .assetNotFound, .ownerDisabled, .taskNotValidForAsset, .scopeMissing, .notShared:
            return reaches(principal, asset) ? decision : Decision(.notShared, revision: decision.revision)
        default:
            return decision
        }
    }

    /// The explanation of such a denial: the steps about the subject itself, then the share it lacks.
    private func outsiderExplanation(_ explanation: Explanation, principal: PrincipalID, asset: AssetID)
        -> Explanation
    {
        let decision = outsiderDecision(explanation.decision, principal: principal, asset: asset)
        // NOT_SHARED means an asset the subject's portfolio does not reach: its steps would describe it.
        guard decision.reason == .notShared else { return explanation }
        // The token, the principal and its own portfolio's status: what comes before the asset is read.
        var steps: [Explanation.Step] = []
        for step in explanation.steps {
            steps.append(step)
            if step.rule == .portfolioStatus { break }
        }
        let home = state.checkIndex.principal(principal)?.portfolio ?? AccessState.nowhere
        steps.append(Explanation.Step(.share, passed: false, "asset \(asset) is not shared with portfolio \(home)"))
        return Explanation(decision: decision, steps: steps)
    }
}
