import ArgumentParser
import PorticoWire

struct PortfolioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portfolio",
        abstract: "Create and manage business portfolios (operator).",
        subcommands: [Create.self, Get.self, List.self, SetStatus.self, SetTier.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a portfolio; its id is in the answer.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's name: 1 to 200 characters.") var name: String
        @Option(help: "The system-user tier.") var tier: SystemUserTier = .none
        @Option(name: .customLong("external-id"), help: "Your own id for it (1-128 of A-Z a-z 0-9 . _ - :).")
        var externalID = ""

        func run() async throws {
            try await self.connection.call(
                PorticoService.CreatePortfolio.self,
                CreatePortfolioRequest(name: self.name, systemUserTier: self.tier, externalID: self.externalID)
            )
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a portfolio.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var id: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.GetPortfolio.self, GetPortfolioRequest(portfolioID: self.id))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List portfolios.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListPortfolios.self,
                ListPortfoliosRequest(pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct SetStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a portfolio's status: ACTIVE, RESTRICTED (no new access) or DISABLED (no access at all)."
        )
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var id: UInt64
        @Option(help: "The new status.") var status: PortfolioStatus

        func run() async throws {
            try await self.connection.call(
                PorticoService.SetPortfolioStatus.self,
                SetPortfolioStatusRequest(portfolioID: self.id, status: self.status)
            )
        }
    }

    struct SetTier: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a portfolio's system-user tier.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The portfolio's id.") var id: UInt64
        @Option(help: "The new tier.") var tier: SystemUserTier

        func run() async throws {
            try await self.connection.call(
                PorticoService.SetSystemUserTier.self,
                SetSystemUserTierRequest(portfolioID: self.id, systemUserTier: self.tier)
            )
        }
    }
}

struct ServiceCredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-credential",
        abstract: "Issue credentials to backend services (operator).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a service credential; its secret is shown once.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "What the credential is for: 1 to 200 characters.") var name: String

        func run() async throws {
            try await self.connection.call(
                PorticoService.CreateServiceCredential.self, CreateServiceCredentialRequest(name: self.name))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List service credentials (never their secrets).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await self.connection.call(
                PorticoService.ListServiceCredentials.self,
                ListServiceCredentialsRequest(pageSize: self.page.pageSize, pageToken: self.page.pageToken)
            )
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a service credential.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The credential's id.") var id: UInt64

        func run() async throws {
            try await self.connection.call(
                PorticoService.RevokeServiceCredential.self,
                RevokeServiceCredentialRequest(credentialID: self.id)
            )
        }
    }
}
