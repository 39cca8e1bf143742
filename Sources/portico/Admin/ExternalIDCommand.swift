import ArgumentParser
import Foundation
import PorticoWire

/// `portico external-id`: entities by the caller's own ids.
struct ExternalIDCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "external-id",
        abstract: "Find an entity by your own id for it, or give it one.",
        subcommands: [Lookup.self, Set.self]
    )

    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The id of the portfolio, person, system user, app or asset your external id names.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "PORTFOLIO, PERSON, SYSTEM_USER, APP or ASSET.") var kind: TargetKind
        @Option(name: .customLong("external-id"), help: "Your id for the entity.") var externalID: String
        @Option(help: "The entity's portfolio, by id (not for a portfolio).") var portfolio: UInt64 = 0
        @Option(name: .customLong("portfolio-external-id"), help: "Or the portfolio by its external id.")
        var portfolioExternalID = ""

        func run() async throws {
            let ref = ExternalRef(
                portfolioID: self.portfolio, portfolioExternalID: self.portfolioExternalID, externalID: self.externalID)
            try await self.connection.call(
                PorticoService.LookupExternalId.self, LookupExternalIdRequest(kind: self.kind, ref: ref))
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an entity created without one its external id (once: it never changes).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "PORTFOLIO, PERSON, SYSTEM_USER, APP or ASSET.") var kind: TargetKind
        @Option(help: "The entity's id.") var id: UInt64
        @Option(name: .customLong("external-id"), help: "Your id for it (1-128 of A-Z a-z 0-9 . _ - :).")
        var externalID: String

        func run() async throws {
            try await self.connection.call(
                PorticoService.SetExternalId.self,
                SetExternalIdRequest(kind: self.kind, id: self.id, externalID: self.externalID))
        }
    }

    /// An ISO 8601 UTC time (`2026-01-31T00:00:00Z`) in microseconds since 1970.
    /// - Throws: a usage error naming the form expected.
    static func micros(_ text: String) throws -> Int64 {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else {
            throw ValidationError("'\(text)' is not an ISO 8601 UTC time such as 2026-01-31T00:00:00Z")
        }
        return Int64(date.timeIntervalSince1970 * 1_000_000)
    }
}
