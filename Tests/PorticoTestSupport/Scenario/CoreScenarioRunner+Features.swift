import PorticoCore

/// The steps of external ids, expiring assignments and previews, as the core runs them.
extension CoreScenarioRunner {
    /// The asset a check names: by `reference`, or by its external id.
    func asset(_ reference: Reference?, _ ref: Arguments.ExternalRefArgument?, _ snapshot: AccessSnapshot) throws
        -> AssetID
    {
        guard let ref else { return AssetID(try self.id(reference, "asset")) }
        return AssetID(snapshot.id(of: try self.externalName(.asset, ref, snapshot)))
    }

    /// The principal a check names: by `reference`, or by its external id among principals of `kind`.
    func principal(
        _ reference: Reference?, _ ref: Arguments.ExternalRefArgument?, _ kind: PrincipalKindTag?,
        _ snapshot: AccessSnapshot
    ) throws -> PrincipalID {
        guard let ref else { return PrincipalID(try self.id(reference, "principal")) }
        guard let kind else { throw ScenarioError.malformed("principalRef needs principalKind") }
        return PrincipalID(snapshot.id(of: try self.externalName(ExternalKind(kind), ref, snapshot)))
    }

    /// An external reference as the core's name: its portfolio by id or by the portfolio's external id.
    func externalName(_ kind: ExternalKind, _ ref: Arguments.ExternalRefArgument, _ snapshot: AccessSnapshot) throws
        -> ExternalName
    {
        if kind == .portfolio { return ExternalName(.portfolio, in: 0, ref.externalId) }
        if let external = ref.portfolioExternalId {
            return ExternalName(kind, in: snapshot.id(of: ExternalName(.portfolio, in: 0, external)), ref.externalId)
        }
        return ExternalName(kind, in: try self.id(ref.portfolio, "portfolio"), ref.externalId)
    }

    /// What `lookupExternalId` names: `kind` and `externalId`, in `portfolio` or `portfolioExternalId`.
    func externalName(_ args: Arguments, _ snapshot: AccessSnapshot) throws -> ExternalName {
        guard let externalId = args.externalId else { throw ScenarioError.malformed("lookup needs externalId") }
        let ref = Arguments.ExternalRefArgument(
            portfolio: args.portfolio, portfolioExternalId: args.portfolioExternalId, externalId: externalId)
        return try self.externalName(try Self.externalKind(args.kind), ref, snapshot)
    }

    /// When an `assign` expires: `expiresInDays` and `expiresInMilliseconds` after the clock's time.
    func expiry(_ args: Arguments) -> Timestamp? {
        guard args.expires else { return nil }
        let now = self.clock.now()
        return Timestamp(
            milliseconds: now.milliseconds + Int64(args.expiresInDays ?? 0) * 86_400_000
                + Int64(args.expiresInMilliseconds ?? 0))
    }

    /// The proposed changes of a `preview`, previewed by the core for `caller`.
    func preview(_ args: Arguments, _ caller: Caller, _ snapshot: AccessSnapshot, _ now: Timestamp) throws -> Preview {
        let commands = try (args.changes ?? []).map { proposed in
            if let kind = try Self.kind(proposed.args.principalKind) {
                let principal = PrincipalID(
                    try self.id(proposed.args.principal ?? proposed.args.systemUser, "principal"))
                try snapshot.requireKind(of: principal, kind, changedBy: caller, now: now)
            }
            return try self.command(proposed.op, proposed.args)
        }
        return try snapshot.preview(commands, as: caller, now: now, limit: args.limit ?? 100)
    }

    /// `PORTFOLIO`, `PERSON`, `SYSTEM_USER`, `APP` or `ASSET`.
    static func externalKind(_ name: String?) throws -> ExternalKind {
        try Self.parse(ExternalKind.allCases.first { $0.name == name }, "kind \(name ?? "(none)")")
    }

    /// How a preview differs from its expectation: rows, next page, revision.
    func differences(_ preview: Preview, _ expect: Expectation) throws -> [String] {
        var differences: [String] = []
        if let expected = expect.access {
            let got = preview.changes.map { change -> String in
                let subject =
                    switch change.subject {
                    case .principal(let id): "principal \(id)"
                    case .token(let id): "token \(id)"
                    }
                return "\(subject) asset \(change.asset): +\(change.gained.names) -\(change.lost.names)"
            }
            let want = try expected.map { row -> String in
                let subject =
                    if let token = row.token { "token \(try self.id(token))" } else {
                        "principal \(try self.id(row.principal, "principal"))"
                    }
                return "\(subject) asset \(try self.id(row.asset)): +\(row.gained) -\(row.lost)"
            }
            if got != want { differences.append("preview \(got), expected \(want)") }
        }
        switch expect.next {
        case nil: break
        case .none?: if let next = preview.next { differences.append("preview has a next page after \(next)") }
        case .id?: if preview.next == nil { differences.append("preview has no next page") }
        }
        if let revision = expect.revision, preview.revision != revision {
            differences.append("preview at revision \(preview.revision), expected \(revision)")
        }
        return differences
    }

    /// A change answered as the bound change `name` was: same revision and same created id.
    func differences(_ result: CommandResult?, sameAs reference: Reference?) throws -> [String] {
        guard case .bound(let name)? = reference else {
            return reference == nil ? [] : ["sameAs names a bound change"]
        }
        guard let first = self.answers[name] else { throw ScenarioError.malformed("no change bound as @\(name)") }
        guard let result else { return ["no answer, expected the answer of @\(name)"] }
        var differences: [String] = []
        if result.revision != first.revision || result.createdID != first.createdID {
            differences.append(
                "answered revision \(result.revision) id \(result.createdID ?? 0), expected @\(name)'s revision "
                    + "\(first.revision) id \(first.createdID ?? 0)")
        }
        if result.secret != first.secret { differences.append("answered another secret than @\(name)") }
        return differences
    }
}
