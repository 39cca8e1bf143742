import ArgumentParser
import Foundation
import PorticoWire
import Testing

@testable import portico

/// The small parts of `portico` that words on the command line go through.
@Suite("portico: parsing and printing")
struct CLIPartsTests {
    @Test("HOST:PORT, IPv6 in brackets; a missing host, port 0 or beyond 65535 is refused")
    func endpoint() throws {
        let plain = try Endpoint(parsing: "10.0.0.2:7701")
        #expect(plain.host == "10.0.0.2" && plain.port == 7701 && plain.description == "10.0.0.2:7701")
        let ipv6 = try Endpoint(parsing: "[::1]:7700")
        #expect(ipv6.host == "::1" && ipv6.port == 7700 && ipv6.description == "[::1]:7700")
        for bad in ["7700", ":7700", "host:", "host:0", "host:65536", "host:-1", "host:77x"] {
            #expect(throws: ValidationError.self, "\(bad)") { try Endpoint(parsing: bad) }
        }
    }

    @Test("an environment variable is unset, valid, or a usage error: never a silent default")
    func environment() throws {
        #expect(try PorticoEnvironment.port("PORTICO_PORT", in: [:]) == nil)
        #expect(try PorticoEnvironment.port("PORTICO_PORT", in: ["PORTICO_PORT": "8080"]) == 8080)
        for bad in ["abc", "", "-1", "65536", "80 "] {
            #expect(throws: ValidationError.self, "\(bad)") {
                try PorticoEnvironment.port("PORTICO_PORT", in: ["PORTICO_PORT": bad])
            }
        }
    }

    @Test("the README's table lists every environment variable portico reads, with its flag")
    func readmeListsEveryVariable() throws {
        let readme = try String(contentsOf: Locations.repository.appendingPathComponent("README.md"), encoding: .utf8)
        for variable in PorticoEnvironment.server + PorticoEnvironment.client {
            #expect(readme.contains("| `\(variable.name)` | `\(variable.flag)` |"), "README.md lacks \(variable.name)")
        }
    }

    @Test("a batch check line: three words; a token's secret is never printed back")
    func batchLine() throws {
        let token = try BatchCheckLine(parsing: "token:ptk_4_c2VjcmV0 asset:9 analyze")
        #expect(token.item == CheckItem(assetID: 9, task: .analyze, subject: .token("ptk_4_c2VjcmV0")))
        #expect(token.subjectText == "token:ptk_4_…")
        #expect(!token.text.contains("c2VjcmV0"))
        #expect(
            try BatchCheckLine(parsing: "  person:7\tasset:5   MANAGE ").item
                == CheckItem(assetID: 5, task: .manage, subject: .personID(7)))
        for bad in [
            "person:7 asset:5", "person:x asset:5 MANAGE", "user:7 asset:5 MANAGE", "person:7 5 MANAGE",
            "person:7 asset:5 FLY", "person:7 asset:5 MANAGE extra",
        ] {
            #expect(throws: CommandFailure.self, "\(bad)") { try BatchCheckLine(parsing: bad) }
        }
    }

    @Test("text: the proto's field names, enum values as typed, names quoted, control characters escaped")
    func text() {
        #expect(Render.fieldName("assetID") == "asset_id")
        #expect(Render.fieldName("startedAtUnixMicros") == "started_at_unix_micros")
        #expect(Render.fieldName("ownerPortfolioID") == "owner_portfolio_id")
        #expect(Render.cell(Scope.adsManagement) == "ads_management")
        #expect(Render.cell(AssetTask.createContent) == "CREATE_CONTENT")
        #expect(Render.text("Acme Corp", quoted: true) == #""Acme Corp""#)
        #expect(Render.text("red\u{1B}[31m", quoted: false) == #"red\u001b[31m"#)
        #expect(Render.time(0, label: "expiresAtUnixMicros") == "never")
        #expect(Render.time(1_700_000_000_000_000, label: "createdAtUnixMicros") == "2023-11-14T22:13:20Z")
        #expect(Render.time(7, label: "revision") == nil)
    }

    @Test("an enum is taken in any case, with or without its prefix; UNSPECIFIED is not a choice")
    func enums() {
        #expect(AssetTask(argument: "analyze") == .analyze)
        #expect(AssetTask(argument: "ASSET_TASK_ANALYZE") == .analyze)
        #expect(AssetTask(argument: "create-content") == .createContent)
        #expect(Scope(argument: "ads_management") == .adsManagement)
        #expect(AssetTask(argument: "unspecified") == nil)
        #expect(!AssetTask.allValueStrings.contains("UNSPECIFIED"))
        #expect(Scope.allValueStrings.first == "business_management")
    }
}
