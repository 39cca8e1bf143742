import PorticoCore
import PorticoReasons
import PorticoWire

/// External ids: entities named by their callers' own ids, in gets, lookups, checks and SetExternalId.
extension Dispatcher {
    func lookupExternalId(_ request: LookupExternalIdRequest, context: inout CallContext) throws
        -> LookupExternalIdResponse
    {
        let snapshot = self.portico.snapshot
        let kind = try WireMapping.externalKind(request.kind)
        guard let ref = request.ref else { throw CallFailure.invalid("a lookup needs a ref", field: "ref") }
        let name = try Self.name(kind, ref, snapshot, field: "ref")
        let id = try snapshot.lookup(name, as: context.caller, now: self.portico.clock.now())
        return LookupExternalIdResponse(id: id)
    }

    func setExternalId(_ request: SetExternalIdRequest, context: CallContext) async throws -> SetExternalIdResponse {
        let kind = try WireMapping.externalKind(request.kind)
        let (result, _) = try await self.execute(.setExternalID(kind, request.id, request.externalID), context)
        return SetExternalIdResponse(revision: result.revision)
    }

    /// The name `ref` gives an entity of `kind`: its external id in the portfolio `ref` names (by id, or
    /// by the portfolio's external id, which resolves to 0 when no portfolio has it); a portfolio's own
    /// `ref` names no portfolio.
    /// - Throws: INVALID_ARGUMENT when `ref` names its portfolio twice or not at, or has no external id.
    static func name(_ kind: ExternalKind, _ ref: ExternalRef, _ snapshot: AccessSnapshot, field: String) throws
        -> ExternalName
    {
        guard !ref.externalID.isEmpty else {
            throw CallFailure.invalid("\(field).external_id is required", field: field)
        }
        for text in [ref.externalID, ref.portfolioExternalID] where !text.isEmpty && !ExternalID.isValid(text) {
            var failure = CallFailure(
                .invalidArgument,
                "\(field): an external id has 1 to \(ExternalID.maxLength) characters from "
                    + "A-Z a-z 0-9 . _ - :", reason: .invalidExternalID)
            failure.detail.field = field
            throw failure
        }
        if kind == .portfolio {
            guard ref.portfolioID == 0, ref.portfolioExternalID.isEmpty else {
                throw CallFailure.invalid(
                    "a portfolio's external id is unique among portfolios: name no portfolio",
                    field: field)
            }
            return ExternalName(.portfolio, in: 0, ref.externalID)
        }
        switch (ref.portfolioID, ref.portfolioExternalID.isEmpty) {
        case (0, false):
            return ExternalName(
                kind, in: snapshot.id(of: ExternalName(.portfolio, in: 0, ref.portfolioExternalID)),
                ref.externalID)
        case (let portfolio, true) where portfolio != 0:
            return ExternalName(kind, in: portfolio, ref.externalID)
        default:
            throw CallFailure.invalid(
                "\(field) names its portfolio by portfolio_id or portfolio_external_id, one of the two", field: field)
        }
    }

    /// The asset a check names: by `id`, or (id 0) by `external`.
    static func asset(_ id: UInt64, _ external: ExternalRef?, _ snapshot: AccessSnapshot) throws -> AssetID {
        guard let external else { return AssetID(id) }
        guard id == 0 else {
            throw CallFailure.invalid("name the asset by asset_id or asset_external, not both", field: "asset_id")
        }
        return AssetID(snapshot.id(of: try Self.name(.asset, external, snapshot, field: "asset_external")))
    }

    /// The id a get names: `id`, or the entity `external` names (as `lookup` finds it, for `caller`).
    static func byIDOrExternal(
        _ id: UInt64, _ external: ExternalName?, _ snapshot: AccessSnapshot, _ caller: Caller,
        now: Timestamp, field: String
    ) throws -> UInt64 {
        switch (id, external) {
        case (let id, nil): return id
        case (0, let name?): return try snapshot.lookup(name, as: caller, now: now)
        default: throw CallFailure.invalid("name the entity by \(field) or by its external id, not both", field: field)
        }
    }
}
