import HashTreeCollections
import PorticoReasons

/// "Who may call what" (docs/model.md), decided against one state.
extension AccessState {
    /// The token behind a system-user caller, if it is still usable at `now`.
    /// - Throws: UNAUTHENTICATED (Meta 190/467 invalid or revoked, 190/463 expired).
    func validToken(_ id: TokenID, now: Timestamp) throws -> TokenRecord {
        guard let token = tokens[id] else {
            throw PorticoError(.unauthenticated, "token is not valid", reason: .tokenInvalid, meta: .tokenInvalid)
        }
        if token.revoked {
            throw PorticoError(.unauthenticated, "token was revoked", reason: .tokenRevoked, meta: .tokenInvalid)
        }
        if let expiry = token.expiresAt, now >= expiry {
            throw PorticoError(.unauthenticated, "token expired", reason: .tokenExpired, meta: .tokenExpired)
        }
        return token
    }

    /// Fails unless the caller's credential is usable now; the first check of every operation.
    func validateCaller(_ caller: Caller, now: Timestamp) throws {
        switch caller {
        case .operator:
            return
        case .service(let credential, let person):
            guard let record = credentials[credential], !record.revoked else {
                throw PorticoError(.unauthenticated, "service credential is not valid", reason: .credentialInvalid)
            }
            if let person {
                guard let record = principals[person], !record.removed, record.kind == .person else {
                    throw PorticoError.denied("a service can act only on behalf of an existing person")
                }
            }
        case .systemUser(let token):
            _ = try validToken(token, now: now)
        }
    }

    /// Fails unless the caller is the operator.
    func requireOperator(_ caller: Caller) throws {
        guard case .operator = caller else { throw PorticoError.denied("only the operator may do this") }
    }

    /// Fails unless the caller may administer `portfolio`: the operator, or that portfolio's admin
    /// system user through a token with `business_management`. Services are read-only, even on behalf
    /// of an admin person.
    func requireAdmin(of portfolio: PortfolioID, _ caller: Caller, now: Timestamp) throws {
        switch caller {
        case .operator:
            return
        case .service:
            throw PorticoError.denied("service credentials are read-only")
        case .systemUser(let tokenID):
            let token = try validToken(tokenID, now: now)
            guard let user = principals[token.principal], user.portfolio == portfolio else {
                throw PorticoError.denied("a system user administers only its own portfolio")
            }
            guard user.role == .admin else { throw PorticoError.denied("a regular system user cannot administer") }
            guard token.scopes.contains(.businessManagement) else {
                throw PorticoError.denied("administration needs the business_management scope")
            }
        }
    }

    /// Fails when the portfolio's status forbids this change (see docs/model.md).
    /// - Parameter grows: whether the change adds access or members (RESTRICTED blocks those for
    ///   everyone but the operator; removals and revocations stay allowed so access can still shrink).
    func requireWritable(_ portfolio: PortfolioID, _ caller: Caller, grows: Bool) throws {
        let record = try portfolioRecord(portfolio)
        switch record.status {
        case .active:
            return
        case .disabled:
            throw PorticoError.precondition("portfolio \(portfolio) is disabled", reason: .portfolioDisabled)
        case .restricted:
            if grows, caller != .operator {
                throw PorticoError.precondition("portfolio \(portfolio) is restricted", reason: .portfolioRestricted)
            }
        }
    }

    func portfolioRecord(_ id: PortfolioID) throws -> PortfolioRecord {
        guard let record = portfolios[id] else { throw PorticoError.notFound("portfolio \(id)") }
        return record
    }

    func activePrincipal(_ id: PrincipalID) throws -> PrincipalRecord {
        guard let record = principals[id], !record.removed else { throw PorticoError.notFound("principal \(id)") }
        return record
    }

    func assetRecord(_ id: AssetID) throws -> AssetRecord {
        guard let record = assets[id] else { throw PorticoError.notFound("asset \(id)") }
        return record
    }

    /// Names are counted in Unicode code points, as most languages count a string's length, so that a
    /// client can check a name before sending it; grapheme clusters would depend on the Unicode version.
    /// A replayed change is not checked again: earlier versions took up to 256 UTF-8 bytes, and a log they
    /// wrote must still load.
    func validateName(_ name: String, _ context: ApplyContext) throws {
        guard !context.isReplay else { return }
        let count = name.unicodeScalars.count
        guard count >= 1, count <= AccessState.maxNameCharacters else {
            throw PorticoError.invalid(
                "a name must have 1 to \(AccessState.maxNameCharacters) characters, not \(count)",
                reason: .invalidName)
        }
    }

    /// The longest name, in Unicode code points (documented in docs/model.md and the proto files).
    public static let maxNameCharacters = 200

    func validateTasks(_ tasks: TaskSet, for type: AssetType) throws {
        guard !tasks.isEmpty, TaskLattice.validTasks(for: type).isSuperset(of: tasks) else {
            throw PorticoError.invalidTasks(tasks, for: type)
        }
    }
}
