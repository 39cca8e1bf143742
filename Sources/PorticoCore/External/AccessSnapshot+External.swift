import PorticoReasons

/// An entity named by its external id: its kind, the portfolio it is unique in (0 for a portfolio) and
/// the id.
public typealias ExternalName = ExternalIndex.Key

/// Finding entities by their external ids, for checks and for callers.
extension AccessSnapshot {
    /// The id `name` stands for, or 0 (an id no entity has) when it names nothing or is malformed: a
    /// check by an unknown external id answers as a check by an unknown id. Allocates nothing.
    ///
    /// No validation scan: only well-formed ids are stored, so a malformed one misses as an unknown one
    /// does (the index bounds only the length). The server refuses malformed ids in a request
    /// (`INVALID_EXTERNAL_ID`) before it gets here; `lookup` refuses them too.
    public func id(of name: ExternalName) -> UInt64 {
        state.checkIndex.resolve(name.kind, in: name.scope, name.externalID) ?? 0
    }

    /// May the principal `principal` names perform `task` on the asset `asset` names, at `now`? The check
    /// by principal, after two lookups; no caller check, no allocation.
    public func check(principal: ExternalName, asset: ExternalName, task: AssetTask, now: Timestamp) -> Decision {
        check(principal: PrincipalID(id(of: principal)), asset: AssetID(id(of: asset)), task: task, now: now)
    }

    /// The id of the entity `name` names, for a caller who may read that entity (the rules of its get:
    /// `Visibility`); a portfolio's external id is looked up among portfolios, any other in `name.scope`.
    /// - Throws: INVALID_ARGUMENT (`INVALID_EXTERNAL_ID`) for a malformed id; PERMISSION_DENIED when the
    ///   caller may not read such an entity, whether it exists or not; NOT_FOUND, to a caller who could,
    ///   when none has the id.
    public func lookup(_ name: ExternalName, as caller: Caller, now: Timestamp) throws -> UInt64 {
        try ExternalID.validate(name.externalID)
        let visibility = try state.visibility(of: caller, now: now)
        guard let id = state.checkIndex.resolve(name.kind, in: name.scope, name.externalID) else {
            let couldSee = name.kind == .portfolio ? visibility == .everything
                : visibility.covers(portfolio: PortfolioID(name.scope))
            try Self.require(couldSee, "\(name.kind.name) \"\(name.externalID)\"")
            throw PorticoError.notFound("\(name.kind.name) with external id \"\(name.externalID)\"")
        }
        switch name.kind {
        case .portfolio: _ = try portfolio(PortfolioID(id), as: caller, now: now)
        case .person: _ = try person(PrincipalID(id), as: caller, now: now)
        case .systemUser:
            try Self.require(visibility.covers(principal: PrincipalID(id), of: PortfolioID(name.scope)),
                             "system user \"\(name.externalID)\"")
        case .app: try Self.require(visibility.covers(portfolio: PortfolioID(name.scope)), "app \"\(name.externalID)\"")
        case .asset: _ = try asset(AssetID(id), as: caller, now: now)
        }
        return id
    }
}
