import ArgumentParser
import PorticoWire

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "May this person, system user or token perform a task on an asset?",
        discussion: """
            Name the subject with exactly one of --person, --system-user and --token. docs/model.md lists the \
            rules the check tries, in order, and the reason each one answers.

            EXIT STATUS: 0 allowed, 3 denied, 1 the check could not be made, 64 usage error.
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "A person's id.") var person: UInt64?
    @Option(name: .customLong("system-user"), help: "A system user's id.") var systemUser: UInt64?
    @Option(name: .customLong("token"), help: "A token secret (ptk_...), checked as its system user within its scopes.")
    var tokenSecret: String?
    @Option(help: "The asset's id.") var asset: UInt64
    @Option(help: "The task, e.g. ANALYZE.") var task: AssetTask
    @Flag(help: "Show the rules that allowed or denied.") var explain = false
    @Option(help: "Answer at this revision or a newer one (a write's answer carries its revision).")
    var minRevision: UInt64 = 0

    func validate() throws {
        guard [self.person != nil, self.systemUser != nil, self.tokenSecret != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("name exactly one of --person, --system-user and --token")
        }
    }

    func run() async throws {
        let subject: CheckPermissionRequest.Subject =
            if let person { .personID(person) } else if let systemUser { .systemUserID(systemUser) } else {
                .token(self.tokenSecret ?? "")
            }
        let request = CheckPermissionRequest(
            assetID: self.asset,
            task: self.task,
            explain: self.explain,
            minRevision: self.minRevision,
            subject: subject
        )
        let response = try await self.connection.send(PorticoService.CheckPermission.self, request)
        self.connection.print(response)
        if !response.allowed { throw ExitCode(3) }
    }
}

struct LookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Which assets a principal can work on, or who can work on an asset.",
        subcommands: [Assets.self, Principals.self]
    )

    struct Assets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The assets a principal can perform a task on.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var principal: PrincipalOptions
        @Option(help: "The task, e.g. ANALYZE.") var task: AssetTask
        @Option(help: "Only assets of this type.") var type: AssetType?
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListAccessibleAssets.self,
                ListAccessibleAssetsRequest(
                    principal: self.principal.wire,
                    task: self.task,
                    assetType: self.type ?? .unspecified,
                    pageSize: self.page.pageSize,
                    pageToken: self.page.pageToken
                )
            )
        }
    }

    struct Principals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who can perform a task on an asset.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The asset's id.") var asset: UInt64
        @Option(help: "A task; any task when absent.") var task: AssetTask?
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListAssetPrincipals.self,
                ListAssetPrincipalsRequest(
                    assetID: self.asset,
                    task: self.task ?? .unspecified,
                    pageSize: self.page.pageSize,
                    pageToken: self.page.pageToken
                )
            )
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "List the changes after a revision.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Changes after this revision.") var after: UInt64 = 0
    @Option(help: "Only this portfolio's changes (an admin must name its own).") var portfolio: UInt64?
    @OptionGroup var page: PageOptions

    func run() async throws {
        try await self.connection.call(
            PorticoService.ListAuditEvents.self,
            ListAuditEventsRequest(
                afterRevision: self.after,
                portfolioID: self.portfolio ?? 0,
                pageSize: self.page.pageSize,
                pageToken: self.page.pageToken
            )
        )
    }
}
