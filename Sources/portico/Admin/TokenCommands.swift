import ArgumentParser
import PorticoWire

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Generate, list, inspect and revoke system user tokens.",
        subcommands: [Generate.self, Revoke.self, RevokeAll.self, List.self, Inspect.self]
    )

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a token for a system user and an app; its secret is shown once.",
            discussion: "docs/model.md lists the tasks each scope covers."
        )
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("system-user"), help: "The system user's id.") var systemUser: UInt64
        @Option(help: "The id of an app of the same portfolio.") var app: UInt64
        @Option(name: .customLong("scope"), help: "A scope, e.g. ads_management; repeat for several.") var scopes:
            [Scope]
        @Option(help: "When the token expires.") var expiry: TokenExpiry = .never

        func run() async throws {
            try await self.connection.call(
                PorticoService.GenerateToken.self,
                GenerateTokenRequest(
                    systemUserID: self.systemUser, appID: self.app, scopes: self.scopes, expiry: self.expiry)
            )
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke one token.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The token's id (not its secret).") var id: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.RevokeToken.self, RevokeTokenRequest(tokenID: self.id))
        }
    }

    struct RevokeAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke every token of a system user.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("system-user"), help: "The system user's id.") var systemUser: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.RevokeAllTokens.self, RevokeAllTokensRequest(systemUserID: self.systemUser))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a system user's tokens (never their secrets).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("system-user"), help: "The system user's id.") var systemUser: UInt64
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListTokens.self,
                ListTokensRequest(
                    systemUserID: self.systemUser, pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a token secret is and whether it is usable.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("token"), help: "The token secret (ptk_...).") var secret: String

        func run() async throws {
            try await self.connection.call(PorticoService.InspectToken.self, InspectTokenRequest(token: self.secret))
        }
    }
}
