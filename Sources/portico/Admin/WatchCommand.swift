import ArgumentParser
import Foundation
import PorticoClient
import PorticoWire

/// `portico watch`: the changes after a revision, then each new one as it commits, one line each,
/// until interrupted or until the server ends the stream (then the line says where to resume).
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every change after a revision, then each new one as it commits, until interrupted.",
        discussion: """
            One line per change: revision, time, actor, operation, target kind and id, portfolio and \
            summary (with --json, the WatchEvent's change as one JSON object per line). When the server \
            ends the stream (it shuts down, or this command fell too far behind), the command fails with \
            the revision to resume from: run it again with --after that revision.
            """)
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Changes after this revision.") var after: UInt64 = 0
    @Option(help: "Only this portfolio's changes (an admin must name its own).") var portfolio: UInt64?

    func run() async throws {
        let endpoint = self.connection.endpoint
        let client = PorticoClient(
            configuration: ClientConfiguration(
                host: endpoint.host,
                port: endpoint.port,
                credential: try self.connection.resolvedCredential(),
                connections: 1,
                connectTimeout: .milliseconds(Int64(min(self.connection.timeout, 5) * 1000)),
                tls: endpoint.tls
            )
        )
        let request = WatchRequest(afterRevision: self.after, portfolioID: self.portfolio ?? 0)
        let options = CallOptions(onBehalfOfPersonID: self.connection.onBehalfOf)
        do {
            for try await item in client.watch(request, options: options) {
                guard let event = item.event else { continue }
                // Written at once, not through print's buffer: a pipe reader sees each change as it comes.
                let line = (self.connection.json ? Self.json(event) : Self.line(event)) + "\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
            await client.close()
        } catch {
            await client.close()
            guard let status = error as? PorticoStatusError else { throw error }
            throw CommandFailure(status: status, address: endpoint.description)
        }
    }

    /// One line of text for a change.
    static func line(_ event: AuditEvent) -> String {
        let time = Render.time(event.timeUnixMicros, label: "timeUnixMicros") ?? "-"
        let actor = Render.cell(event.actor as Any, label: "actor", nested: true)
        return [
            "\(event.revision)", time, actor, event.operation,
            Render.shortName(event.targetKind), "\(event.targetID)", "portfolio=\(event.portfolioID)",
            Render.text(event.summary, quoted: true),
        ].joined(separator: " ")
    }

    /// One line of JSON for a change, with the proto's JSON names.
    static func json(_ event: AuditEvent) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(event) else { return #"{"error": "the change cannot be encoded"}"# }
        return String(decoding: data, as: UTF8.self)
    }
}
