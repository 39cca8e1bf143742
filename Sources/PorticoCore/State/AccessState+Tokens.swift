import HashTreeCollections
import PorticoReasons

/// System-user tokens.
extension AccessState {
    mutating func generateToken(_ principalID: PrincipalID, app appID: AppID, scopes: ScopeSet, expiry: TokenExpiry,
                                _ context: inout ApplyContext) throws -> UInt64 {
        let principal = try principalToChange(principalID, context)
        try requireWritable(principal.portfolio, context.caller, grows: true)
        guard principal.kind == .systemUser else {
            throw PorticoError.invalid("tokens are generated for system users only", reason: .notASystemUser)
        }
        guard let app = apps[appID], app.portfolio == principal.portfolio else {
            throw PorticoError.notFound("app \(appID) in portfolio \(principal.portfolio)")
        }
        guard !scopes.isEmpty else { throw PorticoError.invalid("a token needs at least one scope", reason: .noScopes) }
        let id = TokenID(takeID())
        let digest = try context.newSecret(prefix: SecretFormat.tokenPrefix, id: id.rawValue)
        let expiresAt: Timestamp? = switch expiry {
        case .never: nil
        case .sixtyDays: Timestamp(milliseconds: context.now.milliseconds + TokenExpiry.sixtyDaysInMilliseconds)
        }
        tokens[id] = TokenRecord(id: id, principal: principalID, portfolio: principal.portfolio, app: appID,
                                 scopes: scopes, coverage: ScopeCoverage(scopes), createdAt: context.now,
                                 expiresAt: expiresAt,
                                 revoked: false, secretDigest: digest)
        principalTokens.insert(id, into: principalID)
        context.setTarget(.token, id.rawValue, in: principal.portfolio, "token:\(id)")
        return id.rawValue
    }

    mutating func revokeToken(_ id: TokenID, _ context: inout ApplyContext) throws {
        var token = try tokenToChange(id, context)
        guard !token.revoked else {
            throw PorticoError.precondition("token \(id) is already revoked", reason: .alreadyRevoked)
        }
        token.revoked = true
        tokens[id] = token
        context.setTarget(.token, id.rawValue, in: token.portfolio, "token:\(id)")
    }

    mutating func revokeAllTokens(_ principalID: PrincipalID, _ context: inout ApplyContext) throws {
        let principal = try principalToChange(principalID, context)
        revokeTokens(of: principalID, &context)
        context.setTarget(.systemUser, principalID.rawValue, in: principal.portfolio, "system_user:\(principalID)")
    }

    mutating func revokeTokens(of principal: PrincipalID, _ context: inout ApplyContext) {
        for id in principalTokens[principal] ?? [] where tokens[id]?.revoked == false {
            tokens[id]?.revoked = true
            context.note("revoked token:\(id)")
        }
    }
}
