import ArgumentParser
import Foundation
import PorticoServer

@main
struct PorticoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portico",
        abstract: "Portico: access control for business portfolios.",
        discussion: """
            `portico serve` runs the server. The other subcommands call a running server: they read its \
            address from --address or PORTICO_ADDRESS (default 127.0.0.1:7700) and the credential from \
            --credential or PORTICO_CREDENTIAL, or else use the operator key in the server's data directory \
            (--data-dir or PORTICO_DATA_DIR, default ./data). `portico help SUBCOMMAND` tells more.

            ENVIRONMENT (a flag given on the command line wins)
            \(PorticoEnvironment.helpLines(PorticoEnvironment.client))
            and for `portico serve`:
            \(PorticoEnvironment.helpLines(PorticoEnvironment.server))

            EXIT STATUS
              0   success
              1   failure at run time, said in one line on standard error: the server
                  refused the call or cannot be reached, a file cannot be read, an
                  import was refused
              3   check or batch-check: denied (batch-check: at least one check)
              64  usage error: an unknown subcommand or flag, a missing or malformed
                  value, a malformed environment variable

            With --json, answers use the proto's JSON names, and a failure is one JSON object on standard \
            error: {"error": {"message", "exitCode"}}, with "statusCode", "statusMessage" and "errorDetail" \
            when the server refused the call.
            """,
        version: PorticoServer.version,
        subcommands: [
            ServeCommand.self, WaitReadyCommand.self, PingCommand.self, ServerInfoCommand.self,
            ExportCommand.self, ImportCommand.self,
            PortfolioCommand.self, ServiceCredentialCommand.self, PersonCommand.self, SystemUserCommand.self,
            AppCommand.self, AssetCommand.self, PartnerCommand.self, TokenCommand.self,
            CheckCommand.self, BatchCheckCommand.self, LookupCommand.self, AuditCommand.self,
            WatchCommand.self,
            ExternalIDCommand.self, PreviewCommand.self,
        ]
    )

    /// Parses, runs, and turns every failure into its exit status: a usage error (from parsing and
    /// `validate()`) exits 64 with the subcommand's usage; anything a command throws while it runs is
    /// a runtime failure that exits 1 with one line, never the usage text; `ExitCode` passes through.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let json = Self.wantsJSON(arguments)
        let command: any ParsableCommand
        do {
            command = try Self.parseAsRoot(arguments)
        } catch {
            Self.exitForUsage(error, json: json)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                var synchronous = command
                try synchronous.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let failure as CommandFailure {
            Self.exitForFailure(failure, json: json)
        } catch {
            // `portico help` runs ArgumentParser's own help command, which "fails" to print the help.
            if Self.exitCode(for: error) == .success { Self.exit(withError: error) }
            Self.exitForFailure(error, json: json)
        }
        Foundation.exit(0)
    }

    /// Whether `--json` is among the flags: decided from the words, so that a failure to parse them is
    /// reported in the form the caller asked for too.
    static func wantsJSON(_ arguments: [String]) -> Bool {
        arguments.prefix { $0 != "--" }.contains("--json")
    }

    /// Help and `--version` print and exit 0; any other parse or validation error is a usage error.
    static func exitForUsage(_ error: any Error, json: Bool) -> Never {
        let code = Self.exitCode(for: error)
        guard code != .success, json else { Self.exit(withError: error) }
        Self.printError(FailureReport(message: Self.message(for: error), exitCode: code.rawValue).line)
        Foundation.exit(code.rawValue)
    }

    /// A runtime failure: one line (or one JSON object) on standard error, exit status 1.
    static func exitForFailure(_ error: any Error, json: Bool) -> Never {
        let failure: CommandFailure =
            switch error {
            case let failure as CommandFailure: failure
            // Thrown by code shared with validation (reading files, opening the store) while running.
            case let validation as ValidationError: CommandFailure(validation.message)
            default: CommandFailure(String(describing: error))
            }
        let code = ExitCode.failure.rawValue
        if json {
            Self.printError(FailureReport(message: failure.message, exitCode: code, status: failure.status).line)
        } else {
            Self.printError("portico: " + failure.message)
        }
        Foundation.exit(code)
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
