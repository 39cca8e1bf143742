/// Who is calling: every operation takes one, and "who may call what" is decided from it.
public enum Caller: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The holder of the operator key from the server configuration: may do everything.
    case `operator`
    /// A backend service; read-only. With `onBehalfOf`, it acts with that person's rights.
    case service(CredentialID, onBehalfOf: PrincipalID? = nil)
    /// A system user, authenticated by one of its tokens.
    case systemUser(TokenID)

    public var description: String {
        switch self {
        case .operator: "operator"
        case .service(let id, nil): "service:\(id)"
        case .service(let id, let person?): "service:\(id) as person:\(person)"
        case .systemUser(let token): "token:\(token)"
        }
    }
}
