import ArgumentParser
import Foundation

/// The environment variables `portico` reads, each validated as strictly as the flag it stands in for:
/// `PORTICO_PORT=abc` is a usage error, never a silent fall-back to the default port.
///
/// A flag given on the command line wins over its variable; the variable wins over the default.
enum PorticoEnvironment {
    /// One variable: its name, the flag it stands in for, and what it means (for `--help` and the README).
    struct Variable {
        let name: String
        let flag: String
        let meaning: String
    }

    /// The variables `portico serve` reads.
    static let server: [Variable] = [
        Variable(name: "PORTICO_HOST", flag: "--host", meaning: "the address to listen on"),
        Variable(name: "PORTICO_PORT", flag: "--port", meaning: "the TCP port to listen on"),
        Variable(name: "PORTICO_DATA_DIR", flag: "--data-dir", meaning: "the data directory"),
        Variable(name: "PORTICO_OPERATOR_KEY", flag: "--operator-key", meaning: "the operator key"),
        Variable(name: "PORTICO_LOG_LEVEL", flag: "--log-level", meaning: "the log level"),
        Variable(name: "PORTICO_LOG_FORMAT", flag: "--log-format", meaning: "the log's format: text or json"),
        Variable(
            name: "PORTICO_METRICS_ADDRESS", flag: "--metrics-address",
            meaning: "where to serve /metrics, /healthz, /readyz"),
    ]

    /// The variables the subcommands that call a server read.
    static let client: [Variable] = [
        Variable(name: "PORTICO_ADDRESS", flag: "--address", meaning: "the server, as HOST:PORT"),
        Variable(name: "PORTICO_CREDENTIAL", flag: "--credential", meaning: "the credential to call with"),
        Variable(name: "PORTICO_DATA_DIR", flag: "--data-dir", meaning: "where to find the operator key"),
    ]

    /// `NAME  meaning (--flag)` lines for a command's help.
    static func helpLines(_ variables: [Variable]) -> String {
        let width = variables.map(\.name.count).max() ?? 0
        return variables.map { variable in
            "  " + variable.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                + "\(variable.meaning) (\(variable.flag))"
        }.joined(separator: "\n")
    }

    /// The variable's value; nil when it is unset. Set but empty is a usage error, as `--port ""` is.
    static func string(_ name: String, in environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> String?
    {
        guard let value = environment[name] else { return nil }
        guard !value.isEmpty else { throw ValidationError("\(name) is set but empty; unset it or give it a value") }
        return value
    }

    /// A TCP port from the variable, 0 to 65535.
    static func port(_ name: String, in environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Int?
    {
        guard let text = try Self.string(name, in: environment) else { return nil }
        guard let port = Int(text), (0...65535).contains(port) else {
            throw ValidationError("\(name)=\(text) is not a TCP port (0 to 65535)")
        }
        return port
    }
}
