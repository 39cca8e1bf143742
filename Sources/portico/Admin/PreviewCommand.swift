import ArgumentParser
import PorticoWire

/// `portico preview`: what proposed changes would do to access, as a diff, applying nothing.
struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show who would gain or lose which tasks on which assets if the changes were made.",
        discussion: """
            Each --change is one proposed change, applied in order to a copy of the server's state with \
            your rights (nothing is kept): 'assign person=12 asset=11 tasks=ANALYZE,ADVERTISE' (or \
            system-user=), 'unassign person=12 asset=11', 'remove-person id=12', 'remove-system-user id=12', \
            'share asset=11 partner=5 tasks=ADVERTISE' (also to lower a share), 'unshare asset=11 partner=5', \
            'remove-partner portfolio=1 partner=5', 'remove-asset id=11', 'revoke-token id=9', \
            'revoke-all-tokens system-user=9'. Each line of the answer is a principal (or a token the \
            changes revoke) and an asset, with the tasks it would lose (-) and gain (+), cascades included.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("change"), help: "A proposed change (see above); repeat for several, in order.")
    var changes: [String]

    func validate() throws {
        guard (1...100).contains(self.changes.count) else { throw ValidationError("give 1 to 100 --change") }
        for change in self.changes { _ = try Self.proposal(change) }
    }

    func run() async throws {
        let proposals = try self.changes.map { ProposedChange(change: try Self.proposal($0)) }
        var rows: [AccessChange] = []
        var token = ""
        var first: PreviewChangesResponse?
        // Every page: a preview's rows are bounded by what the changes touch.
        repeat {
            let page = try await self.connection.send(
                PorticoService.PreviewChanges.self,
                PreviewChangesRequest(changes: proposals, pageSize: 1000, pageToken: token))
            first = first ?? page
            rows += page.access
            token = page.nextPageToken
        } while !token.isEmpty
        guard var whole = first else { return }
        whole.access = rows
        whole.nextPageToken = ""
        if self.connection.json {
            self.connection.print(whole)
            return
        }
        print(Self.diff(whole))
    }

    /// The preview as lines: a header with the revision, each change's effects, then one line per row.
    static func diff(_ preview: PreviewChangesResponse) -> String {
        var lines = ["preview at revision \(preview.revision): \(preview.access.count) change(s) in access"]
        for (index, effect) in preview.effects.enumerated() { lines.append("change \(index + 1): \(effect)") }
        for row in preview.access {
            let subject =
                if row.tokenID != 0 { "token \(row.tokenID)" } else if let principal = row.principal {
                    "\(principal.kind == .systemUser ? "system user" : "person") \(principal.id)"
                } else { "principal ?" }
            let lost = row.lost.map { "-" + Render.shortName($0) }
            let gained = row.gained.map { "+" + Render.shortName($0) }
            lines.append("\(subject) (portfolio \(row.portfolioID)) asset \(row.assetID): "
                + (lost + gained).joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// One `--change` as the request its RPC takes.
    static func proposal(_ text: String) throws -> ProposedChange.Change {
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let verb = words.first else { throw ValidationError("an empty --change") }
        var fields: [String: String] = [:]
        for word in words.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("'\(word)' in --change '\(text)' is not key=value") }
            fields[parts[0]] = parts[1]
        }
        func id(_ key: String) throws -> UInt64 {
            guard let value = fields[key], let id = UInt64(value) else {
                throw ValidationError("--change '\(text)' needs \(key)=<id>")
            }
            return id
        }
        func principal() throws -> Principal {
            if fields["person"] != nil { return Principal(kind: .person, id: try id("person")) }
            return Principal(kind: .systemUser, id: try id("system-user"))
        }
        func tasks() throws -> [AssetTask] {
            try (fields["tasks"] ?? "").split(separator: ",").map { name in
                guard let task = AssetTask(argument: String(name)) else {
                    throw ValidationError("unknown task '\(name)' in --change '\(text)'")
                }
                return task
            }
        }
        switch verb {
        case "assign":
            return .assignTasks(
                AssignTasksRequest(principal: try principal(), assetID: try id("asset"), tasks: try tasks()))
        case "unassign":
            return .unassignTasks(UnassignTasksRequest(principal: try principal(), assetID: try id("asset")))
        case "remove-person": return .removePerson(RemovePersonRequest(personID: try id("id")))
        case "remove-system-user": return .removeSystemUser(RemoveSystemUserRequest(systemUserID: try id("id")))
        case "share":
            return .shareAsset(
                ShareAssetRequest(assetID: try id("asset"), partnerPortfolioID: try id("partner"), tasks: try tasks()))
        case "unshare":
            return .unshareAsset(UnshareAssetRequest(assetID: try id("asset"), partnerPortfolioID: try id("partner")))
        case "remove-partner":
            return .removePartner(
                RemovePartnerRequest(portfolioID: try id("portfolio"), partnerPortfolioID: try id("partner")))
        case "remove-asset": return .removeAsset(RemoveAssetRequest(assetID: try id("id")))
        case "revoke-token": return .revokeToken(RevokeTokenRequest(tokenID: try id("id")))
        case "revoke-all-tokens": return .revokeAllTokens(RevokeAllTokensRequest(systemUserID: try id("system-user")))
        default: throw ValidationError("unknown change '\(verb)' in --change '\(text)'")
        }
    }
}
