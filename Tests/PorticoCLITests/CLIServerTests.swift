import Foundation
import Testing

/// `portico` against a live `portico serve`: answers as text and JSON, checks' exit statuses, and the
/// server's own failures.
@Suite("portico: against a running server")
struct CLIServerTests {
    /// A portfolio with an admin system user, an employee system user assigned ADVERTISE on an ad account.
    static func populated() async throws -> ServerProcess {
        let server = try await ServerProcess.start()
        for command in [
            ["portfolio", "create", "--name", "Acme Corp", "--tier", "STANDARD"],  // 1
            ["app", "add", "--portfolio", "1", "--name", "CRM"],  // 2
            ["system-user", "create", "--portfolio", "1", "--name", "Ops", "--role", "ADMIN"],  // 3
            ["asset", "add", "--portfolio", "1", "--type", "AD_ACCOUNT", "--name", "Main ads"],  // 4
            ["system-user", "create", "--portfolio", "1", "--name", "Reports"],  // 5
            ["asset", "assign", "--asset", "4", "--system-user", "5", "--task", "ADVERTISE"],
        ] {
            let outcome = try await server.portico(command)
            try #require(outcome.status == 0, "\(command): \(outcome)")
        }
        return server
    }

    @Test("check exits 0 when allowed and 3 when denied; batch-check 3 when any check is denied")
    func checkStatuses() async throws {
        let server = try await Self.populated()
        let allowed = try await server.portico(["check", "--system-user", "5", "--asset", "4", "--task", "analyze"])
        #expect(allowed.status == 0, "\(allowed)")
        #expect(allowed.stdout.hasPrefix("allowed: yes\nreason: ASSIGNED\n"))
        let denied = try await server.portico([
            "check", "--system-user", "5", "--asset", "4", "--task", "MANAGE", "--explain",
        ])
        #expect(denied.status == 3)
        #expect(
            denied.stdout.contains(
                "ASSIGNMENT        no      assignment [ADVERTISE] grants [ADVERTISE,DRAFT,ANALYZE], not MANAGE"))
        let batch = try await server.portico([
            "batch-check", "--check", "system-user:5 asset:4 ANALYZE", "--check", "system-user:3 asset:4 MANAGE",
        ])
        #expect(batch.status == 0, "\(batch)")
        #expect(batch.stdout.contains("system-user:5  4      ANALYZE  yes      ASSIGNED"))
        let file = try Scratch("batch")
        let checks = file.file("checks.txt")
        try "# who may manage?\nsystem-user:5 asset:4 MANAGE\n\nperson:99 asset:4 ANALYZE\n".write(
            toFile: checks, atomically: true, encoding: .utf8)
        let fromFile = try await server.portico(["batch-check", "--file", checks, "--json"])
        #expect(fromFile.status == 3)
        let object = try JSONSerialization.jsonObject(with: Data(fromFile.stdout.utf8)) as? [String: Any]
        let results = try #require(object?["results"] as? [[String: Any]])
        #expect(
            results.map { $0["reason"] as? String } == [
                "DECISION_REASON_TASK_NOT_GRANTED", "DECISION_REASON_PRINCIPAL_NOT_FOUND",
            ])
        try "system-user:5 asset:4 ANALYZE\nsystem-user:5 4 ANALYZE\n".write(
            toFile: checks, atomically: true, encoding: .utf8)
        let malformed = try await server.portico(["batch-check", "--file", checks])
        #expect(malformed.status == 1)
        #expect(malformed.stderrLines == ["portico: \(checks), line 2: '4' is not an asset: asset:ID"])
        await server.stop()
    }

    @Test("a refused call is one line with the status, reason and Meta code; with --json an object")
    func refusedCall() async throws {
        let server = try await Self.populated()
        let text = try await server.portico(["portfolio", "get", "--id", "99"])
        #expect(text.status == 1)
        #expect(text.stdout.isEmpty)
        #expect(
            text.stderrLines == ["portico: NOT_FOUND: portfolio 99 does not exist (reason NOT_FOUND, Meta code 100)"])
        let json = try await server.portico(["portfolio", "get", "--id", "99", "--json"])
        #expect(json.status == 1)
        let report = try CLIFailureTests.report(json.stderr)
        #expect(report["statusCode"] as? String == "STATUS_CODE_NOT_FOUND")
        #expect(report["statusMessage"] as? String == "portfolio 99 does not exist")
        #expect((report["errorDetail"] as? [String: Any])?["metaCode"] as? Int == 100)
        await server.stop()
    }

    @Test("text quotes names and prints times as UTC dates; JSON uses the proto's JSON names for keys and enums")
    func rendering() async throws {
        let server = try await Self.populated()
        let portfolio = try await server.portico(["portfolio", "get", "--id", "1"])
        #expect(portfolio.stdout.contains(#"name="Acme Corp""#), "\(portfolio)")
        let token = try await server.portico([
            "token", "generate", "--system-user", "3", "--app", "2", "--scope", "ads_read",
        ])
        #expect(token.status == 0)
        #expect(token.stdout.contains("scopes=ads_read"))
        #expect(token.stdout.contains("expires_at_unix_micros=never"))
        #expect(
            token.stdout.firstMatch(of: #/created_at_unix_micros=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /#) != nil, "\(token)")
        let asset = try await server.portico(["asset", "get", "--id", "4", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(asset.stdout.utf8)) as? [String: Any]
        let fields = try #require(object?["asset"] as? [String: Any])
        #expect(Set(fields.keys) == ["id", "ownerPortfolioId", "type", "name", "externalId"])
        #expect(fields["type"] as? String == "ASSET_TYPE_AD_ACCOUNT")
        let info = try await server.portico(["server-info"])
        #expect(info.stdout.contains("max_calls_in_flight: 4096"), "\(info)")
        let ping = try await server.portico(["ping"])
        #expect(ping.stdout.hasPrefix("pong from \(server.address) in "))
        await server.stop()
    }

    @Test("a port in use: serve says so in one line and exits 1")
    func portInUse() async throws {
        let server = try await ServerProcess.start()
        let data = try Scratch("second")
        let second = try await Program.run(
            try Locations.portico(),
            ["serve", "--store", "memory", "--port", "\(server.port)", "--data-dir", data.path],
            limit: .seconds(60)
        )
        #expect(second.status == 1, "\(second)")
        let line = "portico: cannot listen on 127.0.0.1:\(server.port): address already in use"
        let said = (second.stdout + second.stderr).split(separator: "\n").filter { $0.contains("cannot listen") }
        #expect(said == [Substring(line)], "\(second)")
        await server.stop()
    }

    @Test("every option of every subcommand has help")
    func everyOptionExplained() async throws {
        let dump = try await Program.run(try Locations.portico(), ["--experimental-dump-help"])
        #expect(dump.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var missing: [String] = []
        func walk(_ command: [String: Any], _ path: String) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                let names = (argument["names"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
                let abstract = argument["abstract"] as? String ?? ""
                if abstract.isEmpty, !names.contains("help") { missing.append("\(path) --\(names.first ?? "?")") }
            }
            // ArgumentParser's own `help` subcommand is not ours to document.
            for sub in command["subcommands"] as? [[String: Any]] ?? [] where sub["commandName"] as? String != "help" {
                walk(sub, path + " " + (sub["commandName"] as? String ?? "?"))
            }
        }
        walk(try #require(root["command"] as? [String: Any]), "portico")
        #expect(missing.isEmpty, "options without help: \(missing)")
    }
}
