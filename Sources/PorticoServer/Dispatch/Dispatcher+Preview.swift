import PorticoCore
import PorticoWire

/// PreviewChanges: the proposed changes, mapped as their own handlers map them, previewed by the core on
/// a copy of the current snapshot's state.
extension Dispatcher {
    func previewChanges(_ request: PreviewChangesRequest, context: inout CallContext) throws
        -> PreviewChangesResponse
    {
        let snapshot = self.portico.snapshot
        let now = self.portico.clock.now()
        var commands: [Command] = []
        commands.reserveCapacity(min(request.changes.count, AccessSnapshot.maxPreviewChanges + 1))
        for (index, change) in request.changes.prefix(AccessSnapshot.maxPreviewChanges + 1).enumerated() {
            let proposal = try Self.proposal(change.change, at: index)
            // The kind the change names its principal as, compared as the change's handler would.
            if let (principal, kind) = proposal.kind {
                try snapshot.requireKind(of: principal, kind, changedBy: context.caller, now: now)
            }
            commands.append(proposal.command)
        }
        let page = try Self.page(request.pageSize, "")
        let after: PorticoCore.AccessChange.Key?
        if request.pageToken.isEmpty {
            after = nil
        } else {
            guard let key = PorticoCore.AccessChange.Key(request.pageToken) else {
                throw CallFailure.invalid("the page token is not valid", field: "page_token")
            }
            after = key
        }
        let preview = try snapshot.preview(commands, as: context.caller, now: now, after: after, limit: page.limit)
        return PreviewChangesResponse(
            access: preview.changes.map { change in
                let principal: Principal? =
                    switch change.subject {
                    case .principal(let id): Self.principal(id, snapshot)
                    case .token: nil
                    }
                let token: UInt64 =
                    switch change.subject {
                    case .principal: 0
                    case .token(let id): id.rawValue
                    }
                return PorticoWire.AccessChange(
                    principal: principal,
                    tokenID: token,
                    portfolioID: change.portfolio.rawValue,
                    assetID: change.asset.rawValue,
                    before: WireMapping.wire(change.before),
                    after: WireMapping.wire(change.after),
                    gained: WireMapping.wire(change.gained),
                    lost: WireMapping.wire(change.lost)
                )
            },
            nextPageToken: preview.next.map(\.description) ?? "",
            revision: preview.revision,
            effects: preview.effects
        )
    }
}
