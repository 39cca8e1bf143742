import ArgumentParser

@main
struct PorticoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portico",
        abstract: "Portico: access control for business portfolios.",
        subcommands: [ServeCommand.self]
    )
}
