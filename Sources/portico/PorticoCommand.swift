import ArgumentParser

@main
struct PorticoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portico",
        abstract: "Portico: access control for business portfolios.",
        discussion: """
            `portico serve` runs the server. The other subcommands call a running server: they read its
            address from --address or PORTICO_ADDRESS and the credential from --credential or
            PORTICO_CREDENTIAL, or else use the operator key in the server's data directory (./data).
            """,
        subcommands: [
            ServeCommand.self, ExportCommand.self, ImportCommand.self, PingCommand.self, PortfolioCommand.self, ServiceCredentialCommand.self,
            PersonCommand.self, SystemUserCommand.self, AppCommand.self, AssetCommand.self, PartnerCommand.self,
            TokenCommand.self, CheckCommand.self, LookupCommand.self, AuditCommand.self,
        ]
    )
}
