import ArgumentParser
import Foundation
import PorticoClient
import PorticoWire

/// Where the admin subcommands connect and with which credential.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "The server, as host:port (env PORTICO_ADDRESS).")
    var address: String = ProcessInfo.processInfo.environment["PORTICO_ADDRESS"] ?? "127.0.0.1:7700"

    @Option(help: "The credential: an operator key, a service credential or a token (env PORTICO_CREDENTIAL). Default: the operator key in --data-dir.")
    var credential: String?

    @Option(name: .customLong("data-dir"), help: "The server's data directory, to find the operator key (env PORTICO_DATA_DIR).")
    var dataDirectory: String = ProcessInfo.processInfo.environment["PORTICO_DATA_DIR"] ?? "./data"

    @Option(name: .customLong("on-behalf-of"), help: "With a service credential: the person to act for.")
    var onBehalfOf: UInt64?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 10

    @Flag(help: "Print the answer as JSON.")
    var json = false

    /// The credential to send: the flag, the environment, or the operator key file of the data directory.
    func resolvedCredential() -> String {
        if let credential, !credential.isEmpty { return credential }
        if let env = ProcessInfo.processInfo.environment["PORTICO_CREDENTIAL"], !env.isEmpty { return env }
        let file = (self.dataDirectory as NSString).appendingPathComponent("operator.key")
        return (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    func endpoint() throws -> (host: String, port: Int) {
        guard let colon = self.address.lastIndex(of: ":"), let port = Int(self.address[self.address.index(after: colon)...]) else {
            throw ValidationError("--address must be host:port, not \(self.address)")
        }
        return (String(self.address[..<colon]), port)
    }

    /// Calls `rpc` with `request` and prints the answer.
    func call<RPC: PorticoRPC>(_ rpc: RPC.Type, _ request: RPC.Request) async throws {
        let response = try await self.send(rpc, request)
        print(self.json ? try Render.json(response) : Render.text(response))
    }

    /// Calls `rpc` with `request` and returns the answer; a failed call exits with its status.
    func send<RPC: PorticoRPC>(_ rpc: RPC.Type, _ request: RPC.Request) async throws -> RPC.Response {
        let (host, port) = try self.endpoint()
        let client = PorticoClient(
            configuration: ClientConfiguration(host: host, port: port, credential: self.resolvedCredential(), connections: 1)
        )
        do {
            let options = CallOptions(onBehalfOfPersonID: self.onBehalfOf, timeout: .seconds(self.timeout))
            let response = try await client.call(rpc, request, options: options)
            await client.close()
            return response
        } catch let status as PorticoStatusError {
            await client.close()
            throw CallFailed(status: status)
        } catch {
            await client.close()
            throw error
        }
    }
}

/// A call the server refused: printed as its status, and the command exits with status 1.
struct CallFailed: Error, CustomStringConvertible {
    let status: PorticoStatusError

    var description: String {
        var text = "\(self.status.code.protoValueName.replacingOccurrences(of: "STATUS_CODE_", with: "")): \(self.status.message)"
        if let detail = self.status.detail {
            if !detail.reason.isEmpty { text += "\n  reason: \(detail.reason)" }
            if detail.metaCode != 0 {
                text += "\n  meta code: \(detail.metaCode)" + (detail.metaSubcode != 0 ? " subcode \(detail.metaSubcode)" : "")
            }
            if !detail.field.isEmpty { text += "\n  field: \(detail.field)" }
        }
        return text
    }
}

/// Parses an enum value by its proto name, without its prefix and in any case: `analyze` is
/// `ASSET_TASK_ANALYZE`, `ads_management` is `SCOPE_ADS_MANAGEMENT`.
func parseEnum<E: WireEnum>(_ raw: String, as type: E.Type) throws -> E {
    let name = raw.uppercased().replacingOccurrences(of: "-", with: "_")
    let prefix = Render.enumPrefix(E.self)
    if let value = E(protoValueName: prefix + name) ?? E(protoValueName: name), value.rawValue != 0 { return value }
    let choices = E.allCases.filter { $0.rawValue != 0 }.map { Render.shortName($0) }.joined(separator: ", ")
    throw ValidationError("'\(raw)' is not one of: \(choices)")
}
