import Foundation
import Testing

/// What `portico serve` logs at its most talkative (debug, JSON): every line an object, the lines an
/// operator relies on present, and never a secret, whatever the traffic.
@Suite("portico serve: logs")
struct LogSecretsTests {
    @Test("no secret in any log line: operator key, tokens, service credentials, app secrets, wrong ones")
    func noSecretInLogs() async throws {
        let server = try await ServerProcess.start(
            store: "sqlite", arguments: ["--log-level", "debug", "--log-format", "json"])
        var secrets = [try server.operatorKey]
        func run(_ arguments: [String], credential: String? = nil, expect status: Int32 = 0) async throws -> String {
            let outcome = try await server.portico(arguments + (credential.map { ["--credential", $0] } ?? []))
            #expect(outcome.status == status, "\(arguments): \(outcome)")
            // Every secret the server hands out, wherever the answer shows it.
            secrets += outcome.stdout.split(whereSeparator: { " \n\"".contains($0) })
                .filter { $0.hasPrefix("ptk_") || $0.hasPrefix("psk_") || $0.hasPrefix("pas_") }.map(String.init)
            return outcome.stdout
        }
        _ = try await run(["portfolio", "create", "--name", "Acme", "--tier", "STANDARD"])  // 1
        _ = try await run(["app", "add", "--portfolio", "1", "--name", "CRM"])  // 2
        _ = try await run(["system-user", "create", "--portfolio", "1", "--name", "Ops", "--role", "ADMIN"])  // 3
        _ = try await run(["asset", "add", "--portfolio", "1", "--type", "AD_ACCOUNT", "--name", "Main"])  // 4
        _ = try await run(["token", "generate", "--system-user", "3", "--app", "2", "--scope", "business_management"])
        _ = try await run(["service-credential", "create", "--name", "billing"])
        _ = try await run(["service-credential", "create", "--name", "revoked soon"])
        let issued = secrets.filter { $0.hasPrefix("ptk_") || $0.hasPrefix("psk_") }
        try #require(issued.count == 3, "issued: \(secrets.count) secrets")
        let token = try #require(issued.first { $0.hasPrefix("ptk_") })
        let service = try #require(issued.first { $0.hasPrefix("psk_") })
        let revoked = try #require(issued.last { $0.hasPrefix("psk_") })
        _ = try await run(["service-credential", "revoke", "--id", String(revoked.split(separator: "_")[1])])

        // Good calls with each credential, checks by token (the secret in the body), then failures.
        _ = try await run(["check", "--system-user", "3", "--asset", "4", "--task", "MANAGE"], credential: token)
        _ = try await run(
            ["check", "--token", token, "--asset", "4", "--task", "MANAGE"], credential: service, expect: 3)
        let forgedToken = String(token.dropLast(43)) + String(repeating: "Q", count: 43)
        let wrongKey = "pok_" + String(repeating: "Z", count: 43)
        let tampered = String(service.dropLast()) + (service.hasSuffix("A") ? "B" : "A")
        secrets += [forgedToken, wrongKey, tampered]
        for bad in [forgedToken, wrongKey, tampered, revoked, "not-a-credential-\(UUID().uuidString)"] {
            _ = try await run(["portfolio", "get", "--id", "1"], credential: bad, expect: 1)
        }
        _ = try await run(["check", "--token", forgedToken, "--asset", "4", "--task", "MANAGE"], expect: 3)
        await server.stop()

        let lines = server.program.stderr.split(separator: "\n")
        try #require(lines.count > 20, "\(server.program.stderr)")
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(
                object?["timestamp"] is String && object?["level"] is String && object?["message"] is String, "\(line)")
        }
        let everything = server.program.stderr + server.program.stdout
        for secret in secrets {
            // The whole secret, and its random part alone.
            // Told apart before the expectation, so that a failure does not print the log (and the secret).
            let whole = everything.contains(secret)
            let random = everything.contains(String(secret.suffix(43)))
            #expect(!whole, "a log line holds \(secret.prefix(6))...")
            #expect(!random, "a log line holds the random part of \(secret.prefix(6))...")
        }
        #expect(!everything.contains("not-a-credential"))
        // The lines an operator relies on are there.
        let failures = lines.filter { $0.contains(#""message":"authentication failed""#) }
        #expect(failures.count == 5, "\(failures)")
        #expect(failures.contains { $0.contains(#""credential_kind":"token""#) && $0.contains(#""credential_id":"#) })
        #expect(failures.contains { $0.contains(#""credential_kind":"operator""#) })
        #expect(failures.contains { $0.contains(#""credential_kind":"unknown""#) })
        #expect(lines.filter { $0.contains(#""message":"write committed""#) }.count == 8)
        #expect(lines.contains { $0.contains(#""message":"call""#) && $0.contains(#""method":"CheckPermission""#) })
        #expect(lines.contains { $0.contains(#""message":"stopped""#) })
    }
}
