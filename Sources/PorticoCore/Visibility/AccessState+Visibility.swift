import HashTreeCollections
import PorticoReasons

/// "Who may call what" for reads, and the kind a call names a principal as.
extension AccessState {
    /// What `caller` may see, after checking that its credential is usable at `now`.
    func visibility(of caller: Caller, now: Timestamp) throws -> Visibility {
        try validateCaller(caller, now: now)
        switch caller {
        case .operator, .service(_, nil):
            return .everything
        case .service(_, let person?):
            guard let record = principals[person] else { throw PorticoError.denied("unknown person") }
            return record.role == .admin ? .portfolioAdmin(record.portfolio, me: person) : .own(person)
        case .systemUser(let tokenID):
            let token = try validToken(tokenID, now: now)
            guard let user = principals[token.principal] else { throw PorticoError.denied("unknown system user") }
            let administers = user.role == .admin && token.scopes.contains(.businessManagement)
            return administers ? .portfolioAdmin(user.portfolio, me: user.id) : .own(user.id)
        }
    }

    /// Fails unless `view` may ask about `principal`'s access.
    func authorize(_ view: Visibility, subject principal: PrincipalID) throws {
        switch view {
        case .everything:
            return
        case .portfolioAdmin(let portfolio, let me):
            guard principal == me || principals[principal]?.portfolio == portfolio else {
                throw PorticoError.denied("an admin may ask only about its own portfolio's principals")
            }
        case .own(let me):
            guard principal == me else { throw PorticoError.denied("this caller may check only its own access") }
        }
    }

    /// Fails unless `view` may ask about a token's access: its system user's, by the rule above.
    func authorize(_ view: Visibility, token: TokenID) throws {
        if view == .everything { return }
        guard let record = tokens[token] else { throw PorticoError.denied("this caller may check only its own tokens") }
        try authorize(view, subject: record.principal)
    }

    /// Fails unless `view` may read everything of `portfolio` (its partners, its audit log).
    func authorize(_ view: Visibility, portfolio: PortfolioID) throws {
        switch view {
        case .everything:
            return
        case .portfolioAdmin(let mine, _) where mine == portfolio:
            return
        default:
            throw PorticoError.denied("only an admin of portfolio \(portfolio) may read this")
        }
    }

    /// Fails unless `view` may list who has access to `asset`: only the owner's admins and above.
    func authorize(_ view: Visibility, assetReaders asset: AssetRecord) throws {
        switch view {
        case .everything:
            return
        case .portfolioAdmin(let portfolio, _) where portfolio == asset.owner:
            return
        default:
            throw PorticoError.denied("only an admin of the owner may list who has access to asset \(asset.id)")
        }
    }
}

extension AccessState {
    /// Fails when `principal` is not of the `kind` the caller names it as (nil: the caller names no kind).
    /// A principal that does not exist is left to the rule that asks for it.
    func requireKind(_ principal: PrincipalID, _ kind: PrincipalKindTag?) throws {
        guard let kind, let actual = checkIndex.principal(principal)?.kind, actual != kind else { return }
        throw PorticoError.invalid(
            "principal \(principal) is a \(actual.rawValue), not a \(kind.rawValue)",
            reason: .wrongPrincipalKind
        )
    }
}

extension AccessSnapshot {
    /// Fails unless `principal` is of `kind`, for a change `caller` makes to it: a caller who may not
    /// change the principal gets the answer the change itself would give (so the kind of another
    /// portfolio's principal is never told), and only then is the kind compared. A principal's kind
    /// never changes and ids are never reused, so this snapshot's answer holds when the change applies.
    /// - Throws: what the change would throw for a principal it may not touch; INVALID_ARGUMENT
    ///   (`WRONG_PRINCIPAL_KIND`) for a principal of the other kind.
    public func requireKind(
        of principal: PrincipalID, _ kind: PrincipalKindTag, changedBy caller: Caller,
        now: Timestamp
    ) throws {
        let context = ApplyContext(caller: caller, now: now, source: .live)
        try state.validateCaller(caller, now: now)
        _ = try state.principalToChange(principal, context)
        try state.requireKind(principal, kind)
    }
}
