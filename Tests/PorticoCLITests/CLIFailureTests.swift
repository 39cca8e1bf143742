import Foundation
import PorticoServer
import Testing

/// How `portico` fails, as a person meets it: one clear line and exit status 1 at run time, the usage
/// and 64 for a wrong command line, JSON on standard error with --json.
@Suite("portico: failures and exit statuses")
struct CLIFailureTests {
    static func portico(_ arguments: [String], environment: [String: String?] = [:]) async throws -> Outcome {
        try await Program.run(try Locations.portico(), arguments, environment: environment)
    }

    @Test("--version prints the server's version")
    func version() async throws {
        let outcome = try await Self.portico(["--version"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout == PorticoServer.version + "\n")
    }

    @Test(
        "nothing listening: one line naming the address, the cause and the likely fix; exit 1",
        arguments: [
            ["ping"], ["server-info"], ["portfolio", "list", "--credential", "pok_x"],
        ])
    func connectionRefused(_ arguments: [String]) async throws {
        let port = try Program.freePort()
        let outcome = try await Self.portico(arguments + ["--address", "127.0.0.1:\(port)"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.isEmpty)
        #expect(
            outcome.stderrLines == [
                "portico: cannot connect to 127.0.0.1:\(port): connection refused — "
                    + "is `portico serve` running at 127.0.0.1:\(port)?"
            ])
    }

    @Test("no credential anywhere: the line names --credential, PORTICO_CREDENTIAL and the operator.key it looked for")
    func missingCredential() async throws {
        let empty = try Scratch("empty")
        let outcome = try await Self.portico(["portfolio", "list", "--data-dir", empty.path])
        #expect(outcome.status == 1)
        let line = try #require(outcome.stderrLines.first)
        #expect(outcome.stderrLines.count == 1)
        #expect(line.hasPrefix("portico: no credential: "))
        #expect(line.contains("--credential"))
        #expect(line.contains("PORTICO_CREDENTIAL"))
        #expect(line.contains(empty.file("operator.key")))
    }

    @Test(
        "a usage error exits 64 with the subcommand's usage",
        arguments: [
            ["portfolio", "create"], ["check", "--asset", "1", "--task", "bogus", "--person", "1"], ["no-such-command"],
            ["asset", "get", "--id", "x"], ["ping", "--address", "localhost"], ["wait-ready", "--timeout", "-1"],
        ])
    func usage(_ arguments: [String]) async throws {
        let outcome = try await Self.portico(arguments)
        #expect(outcome.status == 64, "\(outcome)")
        #expect(outcome.stderr.hasPrefix("Error: "))
        #expect(outcome.stderr.contains("Usage: portico"))
    }

    @Test(
        "environment variables are validated like flags",
        arguments: [
            (["serve"], "PORTICO_PORT", "abc", "PORTICO_PORT=abc is not a TCP port (0 to 65535)"),
            (["serve"], "PORTICO_PORT", "70000", "PORTICO_PORT=70000 is not a TCP port (0 to 65535)"),
            (["serve"], "PORTICO_LOG_LEVEL", "loud", "unknown log level 'loud'"),
            (["serve"], "PORTICO_OPERATOR_KEY", "secret", "must start with pok_"),
            (["serve"], "PORTICO_HOST", "", "PORTICO_HOST is set but empty"),
            (["ping"], "PORTICO_ADDRESS", "127.0.0.1", "PORTICO_ADDRESS must be HOST:PORT"),
            (["ping"], "PORTICO_ADDRESS", "127.0.0.1:http", "PORTICO_ADDRESS must be HOST:PORT"),
            (["serve"], "PORTICO_GRPC_ADDRESS", "7701", "PORTICO_GRPC_ADDRESS must be HOST:PORT"),
            (["serve"], "PORTICO_TLS_CERT", "cert.pem", "--tls-cert needs --tls-key (or PORTICO_TLS_KEY)"),
            (["serve"], "PORTICO_TLS_KEY", "key.pem", "--tls-key needs --tls-cert (or PORTICO_TLS_CERT)"),
            (["serve"], "PORTICO_TLS_CLIENT_CA", "ca.pem", "--tls-client-ca needs --tls-cert and --tls-key"),
        ])
    func environment(_ arguments: [String], _ name: String, _ value: String, _ message: String) async throws {
        let data = try Scratch("env")
        let outcome = try await Self.portico(
            arguments + (arguments == ["serve"] ? ["--data-dir", data.path] : []),
            environment: [name: value])
        #expect(outcome.status == 64, "\(outcome)")
        #expect(outcome.stderr.contains(message), "\(outcome)")
    }

    @Test("TLS files that cannot serve stop the server at start-up, naming the file")
    func tlsFiles() async throws {
        let data = try Scratch("tls")
        let outcome = try await Self.portico(
            [
                "serve", "--data-dir", data.path, "--port", "0", "--tls-cert", data.file("cert.pem"), "--tls-key",
                data.file("key.pem"),
            ])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("cannot read the certificate file \(data.file("cert.pem"))"), "\(outcome)")
        #expect(!outcome.stdout.contains("portico: ready"), "\(outcome)")
    }

    @Test("--json: a usage error and a refused connection are JSON objects on standard error")
    func jsonFailures() async throws {
        let usage = try await Self.portico(["portfolio", "create", "--json"])
        #expect(usage.status == 64)
        let usageReport = try Self.report(usage.stderr)
        #expect(usageReport["exitCode"] as? Int == 64)
        #expect((usageReport["message"] as? String)?.contains("--name") == true)

        let port = try Program.freePort()
        let refused = try await Self.portico(["ping", "--json", "--address", "127.0.0.1:\(port)"])
        #expect(refused.status == 1)
        let report = try Self.report(refused.stderr)
        #expect(report["exitCode"] as? Int == 1)
        #expect(report["statusCode"] as? String == "STATUS_CODE_UNAVAILABLE")
        #expect((report["message"] as? String)?.contains("connection refused") == true)
    }

    @Test("a refused import exits 1 with one line, never the usage")
    func refusedImport() async throws {
        let data = try Scratch("import")
        let outcome = try await Self.portico(["import", data.file("missing.portico"), "--data-dir", data.path])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stderrLines.count == 1)
        #expect(outcome.stderrLines.first?.hasPrefix("portico: import failed: ") == true)
        #expect(!outcome.stderr.contains("Usage"))
    }

    @Test("wait-ready gives up after --timeout with what it met, exit 1")
    func waitReadyTimesOut() async throws {
        let port = try Program.freePort()
        let outcome = try await Self.portico(["wait-ready", "--address", "127.0.0.1:\(port)", "--timeout", "0.5"])
        #expect(outcome.status == 1)
        #expect(outcome.stderrLines.count == 1, "\(outcome)")
        // The last attempt meets a refused connection, or, on a loaded machine, runs out of time connecting.
        let prefix =
            "portico: 127.0.0.1:\(port) did not answer within 0.5 s; last: cannot connect to 127.0.0.1:\(port): "
        #expect(outcome.stderrLines.first?.hasPrefix(prefix) == true, "\(outcome)")
    }

    @Test("--help documents every exit status and every environment variable")
    func help() async throws {
        let root = try await Self.portico(["--help"])
        #expect(root.status == 0)
        for needle in [
            "EXIT STATUS", "  0 ", "  1 ", "  3 ", "  64 ", "PORTICO_ADDRESS", "PORTICO_CREDENTIAL", "PORTICO_DATA_DIR",
        ] {
            #expect(root.stdout.contains(needle), "portico --help lacks \(needle)")
        }
        let serve = try await Self.portico(["serve", "--help"])
        for name in [
            "PORTICO_HOST", "PORTICO_PORT", "PORTICO_DATA_DIR", "PORTICO_OPERATOR_KEY", "PORTICO_LOG_LEVEL",
            "PORTICO_GRPC_ADDRESS", "PORTICO_TLS_CERT", "PORTICO_TLS_KEY", "PORTICO_TLS_CLIENT_CA", "EXIT STATUS",
        ] {
            #expect(serve.stdout.contains(name), "portico serve --help lacks \(name)")
        }
        let check = try await Self.portico(["check", "--help"])
        #expect(check.stdout.contains("3 denied"))
    }

    /// The `error` object of a JSON failure report.
    static func report(_ text: String) throws -> [String: Any] {
        let lines = text.split(separator: "\n")
        try #require(lines.count == 1, "one line of JSON, not: \(text)")
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        return try #require(object?["error"] as? [String: Any], "no error object in \(text)")
    }
}
