import ArgumentParser
import PorticoWire

struct PortfolioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portfolio",
        abstract: "Create and manage business portfolios (operator).",
        subcommands: [Create.self, Get.self, List.self, SetStatus.self, SetTier.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a portfolio.")
        @OptionGroup var connection: ConnectionOptions
        @Option var name: String
        @Option(help: "System-user tier: NONE, STANDARD, ADVANCED.") var tier: String = "NONE"

        func run() async throws {
            try await self.connection.call(
                PorticoService.CreatePortfolio.self,
                CreatePortfolioRequest(name: self.name, systemUserTier: try parseEnum(self.tier, as: SystemUserTier.self))
            )
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a portfolio.")
        @OptionGroup var connection: ConnectionOptions
        @Option var portfolio: UInt64

        func run() async throws {
            try await self.connection.call(PorticoService.GetPortfolio.self, GetPortfolioRequest(portfolioID: self.portfolio))
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
        static let configuration = CommandConfiguration(abstract: "Set a portfolio's status: ACTIVE, RESTRICTED, DISABLED.")
        @OptionGroup var connection: ConnectionOptions
        @Option var portfolio: UInt64
        @Option var status: String

        func run() async throws {
            try await self.connection.call(
                PorticoService.SetPortfolioStatus.self,
                SetPortfolioStatusRequest(portfolioID: self.portfolio, status: try parseEnum(self.status, as: PortfolioStatus.self))
            )
        }
    }

    struct SetTier: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a portfolio's system-user tier: NONE, STANDARD, ADVANCED.")
        @OptionGroup var connection: ConnectionOptions
        @Option var portfolio: UInt64
        @Option var tier: String

        func run() async throws {
            try await self.connection.call(
                PorticoService.SetSystemUserTier.self,
                SetSystemUserTierRequest(portfolioID: self.portfolio, systemUserTier: try parseEnum(self.tier, as: SystemUserTier.self))
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
        static let configuration = CommandConfiguration(abstract: "Issue a service credential; its secret is shown once.")
        @OptionGroup var connection: ConnectionOptions
        @Option var name: String

        func run() async throws {
            try await self.connection.call(PorticoService.CreateServiceCredential.self, CreateServiceCredentialRequest(name: self.name))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List service credentials.")
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
