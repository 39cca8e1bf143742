import ArgumentParser
import PorticoWire

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Generate, list, inspect and revoke system user tokens.",
        subcommands: [Generate.self, Revoke.self, RevokeAll.self, List.self, Inspect.self]
    )

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Generate a token; its secret is shown once.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("system-user")) var systemUser: UInt64
        @Option var app: UInt64
        @Option(name: .customLong("scope"), help: "A scope, e.g. ads_management; repeat for several.") var scopes: [String]
        @Option(help: "NEVER or SIXTY_DAYS.") var expiry: String = "NEVER"

        func run() async throws {
            try await self.connection.call(
                PorticoService.GenerateToken.self,
                GenerateTokenRequest(
                    systemUserID: self.systemUser,
                    appID: self.app,
                    scopes: try self.scopes.map { try parseEnum($0, as: Scope.self) },
                    expiry: try parseEnum(self.expiry, as: TokenExpiry.self)
                )
            )
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke one token.")
        @OptionGroup var connection: ConnectionOptions
        @Option var id: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.RevokeToken.self, RevokeTokenRequest(tokenID: self.id))
        }
    }

    struct RevokeAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke every token of a system user.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("system-user")) var systemUser: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.RevokeAllTokens.self, RevokeAllTokensRequest(systemUserID: self.systemUser))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a system user's tokens (never their secrets).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("system-user")) var systemUser: UInt64
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListTokens.self,
                ListTokensRequest(systemUserID: self.systemUser, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what a token secret is and whether it is usable.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("token"), help: "The token secret (ptk_...).") var secret: String

        func run() async throws {
            try await self.connection.call(PorticoService.InspectToken.self, InspectTokenRequest(token: self.secret))
        }
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "May this person, system user or token perform a task on an asset?",
        discussion: "Exits 0 when allowed, 3 when denied."
    )
    @OptionGroup var connection: ConnectionOptions
    @Option var person: UInt64?
    @Option(name: .customLong("system-user")) var systemUser: UInt64?
    @Option(name: .customLong("token"), help: "A token secret (ptk_...) to check as its system user.") var tokenSecret: String?
    @Option var asset: UInt64
    @Option var task: String
    @Flag(help: "Show the rules that allowed or denied.") var explain = false
    @Option(help: "Answer at this revision or a newer one.") var minRevision: UInt64 = 0

    func validate() throws {
        guard [self.person != nil, self.systemUser != nil, self.tokenSecret != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("name exactly one of --person, --system-user and --token")
        }
    }

    func run() async throws {
        let subject: CheckPermissionRequest.Subject =
            if let person { .personID(person) } else if let systemUser { .systemUserID(systemUser) } else { .token(self.tokenSecret!) }
        let request = CheckPermissionRequest(
            assetID: self.asset,
            task: try parseEnum(self.task, as: AssetTask.self),
            explain: self.explain,
            minRevision: self.minRevision,
            subject: subject
        )
        let response = try await self.connection.send(PorticoService.CheckPermission.self, request)
        print(self.connection.json ? try Render.json(response) : Render.text(response))
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
        @Option var task: String
        @Option var type: String?
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListAccessibleAssets.self,
                ListAccessibleAssetsRequest(
                    principal: self.principal.wire,
                    task: try parseEnum(self.task, as: AssetTask.self),
                    assetType: try self.type.map { try parseEnum($0, as: AssetType.self) } ?? .unspecified,
                    pageSize: self.page.pageSize,
                    pageToken: self.page.pageToken
                )
            )
        }
    }

    struct Principals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who can perform a task on an asset.")
        @OptionGroup var connection: ConnectionOptions
        @Option var asset: UInt64
        @Option(help: "A task; any task when absent.") var task: String?
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListAssetPrincipals.self,
                ListAssetPrincipalsRequest(
                    assetID: self.asset,
                    task: try self.task.map { try parseEnum($0, as: AssetTask.self) } ?? .unspecified,
                    pageSize: self.page.pageSize,
                    pageToken: self.page.pageToken
                )
            )
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "List the changes after a revision.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Changes after this revision.") var after: UInt64 = 0
    @Option(help: "Only this portfolio's changes.") var portfolio: UInt64 = 0
    @OptionGroup var page: PageOptions

    func run() async throws {
        try await self.connection.call(
            PorticoService.ListAuditEvents.self,
            ListAuditEventsRequest(afterRevision: self.after, portfolioID: self.portfolio, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
        )
    }
}

struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show the server's version, revision and limits.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await self.connection.call(PorticoService.GetServerInfo.self, GetServerInfoRequest())
    }
}
