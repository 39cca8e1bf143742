import Crypto

/// What tells two requests apart under one idempotency key: the first 16 bytes of the SHA-256 of the
/// command's canonical bytes.
public typealias CommandFingerprint = IdempotencyDigest

extension Command {
    /// The fingerprint of the command: equal for the same command with the same arguments, whatever
    /// order a request listed its tasks or scopes in. The encoding is the core's own and never changes
    /// meaning (a retry after an upgrade must still match): the operation's name, then each argument,
    /// numbers as 8 little-endian bytes, text and absent values length-prefixed.
    public var fingerprint: CommandFingerprint {
        var bytes: [UInt8] = []
        func add(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func add(_ text: String) {
            add(UInt64(text.utf8.count))
            bytes.append(contentsOf: text.utf8)
        }
        func add(_ text: String?) {
            guard let text else { return add(UInt64.max) }
            add(text)
        }
        func add(_ time: Timestamp?) { add(time.map { UInt64(bitPattern: $0.milliseconds) } ?? UInt64.max) }
        add(self.name)
        switch self {
        case .createPortfolio(let name, let tier, let external):
            add(name)
            add(tier.rawValue)
            add(external)
        case .setPortfolioStatus(let id, let status):
            add(id.rawValue)
            add(status.rawValue)
        case .setSystemUserTier(let id, let tier):
            add(id.rawValue)
            add(tier.rawValue)
        case .issueServiceCredential(let name):
            add(name)
        case .revokeServiceCredential(let id):
            add(id.rawValue)
        case .addPerson(let id, let name, let role, let external),
            .addSystemUser(let id, let name, let role, let external):
            add(id.rawValue)
            add(name)
            add(role.rawValue)
            add(external)
        case .setRole(let id, let role):
            add(id.rawValue)
            add(role.rawValue)
        case .removePrincipal(let id), .revokeAllTokens(let id):
            add(id.rawValue)
        case .createApp(let id, let name, let external):
            add(id.rawValue)
            add(name)
            add(external)
        case .addAsset(let id, let type, let name, let external):
            add(id.rawValue)
            add(type.name)
            add(name)
            add(external)
        case .removeAsset(let id):
            add(id.rawValue)
        case .assign(let principal, let asset, let tasks, let expiresAt):
            add(principal.rawValue)
            add(asset.rawValue)
            add(UInt64(tasks.rawValue))
            add(expiresAt)
        case .unassign(let principal, let asset):
            add(principal.rawValue)
            add(asset.rawValue)
        case .expireAssignments(let portfolio):
            add(portfolio.rawValue)
        case .setExternalID(let kind, let id, let external):
            add(kind.name)
            add(id)
            add(external)
        case .share(let asset, let partner, let tasks), .requestShare(let asset, let partner, let tasks):
            add(asset.rawValue)
            add(partner.rawValue)
            add(UInt64(tasks.rawValue))
        case .unshare(let asset, let partner):
            add(asset.rawValue)
            add(partner.rawValue)
        case .addPartner(let id, let partner), .removePartner(let id, let partner):
            add(id.rawValue)
            add(partner.rawValue)
        case .approveShareRequest(let id), .declineShareRequest(let id):
            add(id.rawValue)
        case .generateToken(let principal, let app, let scopes, let expiry):
            add(principal.rawValue)
            add(app.rawValue)
            add(UInt64(scopes.rawValue))
            add(expiry.rawValue)
        case .revokeToken(let id):
            add(id.rawValue)
        }
        return IdempotencyDigest.of([bytes[...]])
    }
}
