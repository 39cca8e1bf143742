import PorticoClient
import PorticoCore
import PorticoTestSupport
import PorticoWire

/// External ids, expiring assignments, previews and idempotency keys over the wire, as the core's
/// runner runs them (`CoreScenarioRunner+Features` in PorticoTestSupport).
extension WireScenarioRunner {
    /// An `ExternalRef` of the scenario: the portfolio by id or by its external id.
    func externalRef(_ ref: Arguments.ExternalRefArgument) throws -> ExternalRef {
        ExternalRef(
            portfolioID: try ref.portfolio.map { try self.id($0) } ?? 0,
            portfolioExternalID: ref.portfolioExternalId ?? "",
            externalID: ref.externalId
        )
    }

    /// The subject of a check by a principal's external id; nil when the step names none.
    func externalSubject(_ ref: Arguments.ExternalRefArgument?, kind: String?) throws
        -> CheckPermissionRequest.Subject?
    {
        guard let ref else { return nil }
        let wire = try self.externalRef(ref)
        return kind == "SYSTEM_USER" ? .systemUserExternal(wire) : .personExternal(wire)
    }

    /// When an `assign` expires, in microseconds since 1970 by the server's clock; 0 for never.
    func expiryMicros(_ args: Arguments) -> Int64 {
        guard args.expires else { return 0 }
        let now = self.server.clock.now().milliseconds
        return (now + Int64(args.expiresInDays ?? 0) * 86_400_000 + Int64(args.expiresInMilliseconds ?? 0)) * 1000
    }

    /// `lookupExternalId` as the RPC.
    func lookup(_ args: Arguments, _ options: CallOptions) async throws -> Outcome {
        guard let externalId = args.externalId else { throw ScenarioError.malformed("lookup needs externalId") }
        let kind: PorticoWire.TargetKind = try Self.wireEnum("TARGET_KIND_", args.kind ?? "")
        let ref = Arguments.ExternalRefArgument(
            portfolio: args.portfolio, portfolioExternalId: args.portfolioExternalId, externalId: externalId)
        let request = LookupExternalIdRequest(kind: kind, ref: try self.externalRef(ref))
        return .ids([try await self.client.lookupExternalId(request, options: options).id])
    }

    /// `setExternalId` as the RPC.
    func setExternalId(_ args: Arguments, _ options: CallOptions) async throws -> Done {
        let request = SetExternalIdRequest(
            kind: try Self.wireEnum("TARGET_KIND_", args.kind ?? ""),
            id: try self.id(args.id),
            externalID: args.externalId ?? ""
        )
        return Done(revision: try await self.client.setExternalId(request, options: options).revision)
    }

    /// `preview` as PreviewChanges: each proposed change as the request its own RPC takes.
    func preview(_ args: Arguments, _ options: CallOptions) async throws -> Outcome {
        let changes = try (args.changes ?? []).map { try ProposedChange(change: self.proposed($0.op, $0.args)) }
        let request = PreviewChangesRequest(changes: changes, pageSize: UInt32(args.limit ?? 100))
        return .preview(try await self.client.previewChanges(request, options: options))
    }

    private func proposed(_ op: Operation, _ args: Arguments) throws -> ProposedChange.Change? {
        let tasks = try (args.tasks ?? []).map { try Self.task($0) }
        switch op {
        case .assign:
            return .assignTasks(
                AssignTasksRequest(
                    principal: try self.principal(args.principal, named: args.principalKind),
                    assetID: try self.id(args.asset), tasks: tasks, expiresAtUnixMicros: self.expiryMicros(args)))
        case .unassign:
            return .unassignTasks(
                UnassignTasksRequest(
                    principal: try self.principal(args.principal, named: args.principalKind),
                    assetID: try self.id(args.asset)))
        case .removePrincipal:
            let principal = try self.principal(args.principal, named: args.principalKind)
            return principal.kind == .systemUser
                ? .removeSystemUser(RemoveSystemUserRequest(systemUserID: principal.id))
                : .removePerson(RemovePersonRequest(personID: principal.id))
        case .share:
            return .shareAsset(
                ShareAssetRequest(
                    assetID: try self.id(args.asset), partnerPortfolioID: try self.id(args.partner),
                    tasks: tasks))
        case .unshare:
            return .unshareAsset(
                UnshareAssetRequest(assetID: try self.id(args.asset), partnerPortfolioID: try self.id(args.partner)))
        case .removePartner:
            return .removePartner(
                RemovePartnerRequest(
                    portfolioID: try self.id(args.portfolio),
                    partnerPortfolioID: try self.id(args.partner)))
        case .removeAsset:
            return .removeAsset(RemoveAssetRequest(assetID: try self.id(args.asset)))
        case .revokeToken:
            return .revokeToken(RevokeTokenRequest(tokenID: try self.id(args.token)))
        case .revokeAllTokens:
            return .revokeAllTokens(RevokeAllTokensRequest(systemUserID: try self.id(args.systemUser)))
        default:
            // A change the wire cannot propose (one that creates): sent as a proposal naming no change,
            // which the server refuses as the core refuses the change (INVALID_ARGUMENT).
            return nil
        }
    }

    /// How a preview differs from its expectation, in the core runner's terms.
    func differences(_ preview: PreviewChangesResponse, _ expect: Expectation) throws -> [String] {
        var differences: [String] = []
        if let expected = expect.access {
            let got = preview.access.map { row -> String in
                let subject = row.tokenID != 0 ? "token \(row.tokenID)" : "principal \(row.principal?.id ?? 0)"
                return "\(subject) asset \(row.assetID): +\(Self.names(row.gained)) -\(Self.names(row.lost))"
            }
            let want = try expected.map { row -> String in
                let subject =
                    if let token = row.token { "token \(try self.id(token))" } else {
                        "principal \(try self.id(row.principal))"
                    }
                return "\(subject) asset \(try self.id(row.asset)): +\(row.gained) -\(row.lost)"
            }
            if got != want { differences.append("preview \(got), expected \(want)") }
        }
        switch expect.next {
        case nil: break
        case .none?: if !preview.nextPageToken.isEmpty { differences.append("preview has a next page") }
        case .id?: if preview.nextPageToken.isEmpty { differences.append("preview has no next page") }
        }
        if let revision = expect.revision, preview.revision != revision {
            differences.append("preview at revision \(preview.revision), expected \(revision)")
        }
        return differences
    }

    /// A change answered as the bound change `name` was: same revision, same created id, same secret.
    func differences(_ done: Done?, sameAs reference: Reference?) throws -> [String] {
        guard let reference else { return [] }
        guard case .bound(let name) = reference, let first = self.answers[name] else {
            throw ScenarioError.malformed("sameAs names no bound change")
        }
        guard let done else { return ["no answer, expected the answer of @\(name)"] }
        var differences: [String] = []
        if done.revision != first.revision || done.createdID != first.createdID {
            differences.append(
                "answered revision \(done.revision) id \(done.createdID ?? 0), expected @\(name)'s revision "
                    + "\(first.revision) id \(first.createdID ?? 0)")
        }
        if done.secret != first.secret { differences.append("answered another secret than @\(name)") }
        return differences
    }
}
