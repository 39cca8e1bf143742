import ArgumentParser
import Foundation
import PorticoClient
import PorticoWire

/// Where the admin subcommands connect and with which credential.
///
/// Flags that have an environment variable are resolved in `validate()`: flag, then variable, then
/// default, each checked the same way.
struct ConnectionOptions: ParsableArguments {
    @OptionGroup var server: ServerAddressOptions

    @Option(
        help: ArgumentHelp(
            """
            The credential: an operator key (pok_...), a service credential (psk_...) or a token (ptk_...). \
            Default: PORTICO_CREDENTIAL, else the operator key in the data directory.
            """,
            valueName: "secret"))
    var credential: String?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp(
            "The server's data directory, where its operator.key is. Default: PORTICO_DATA_DIR, else ./data.",
            valueName: "directory"))
    var dataDirectoryFlag: String?

    @Option(
        name: .customLong("on-behalf-of"),
        help: ArgumentHelp(
            "With a service credential: the id of the person to act for.", valueName: "person-id"))
    var onBehalfOf: UInt64?

    @Option(help: ArgumentHelp("Seconds to wait for the answer.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(name: .customLong("idempotency-key"), help: ArgumentHelp(
        "A change's key: the same change sent again with it is applied once (default: a random one).",
        valueName: "key"))
    var idempotencyKey: String?

    @Flag(help: "Print the answer as JSON (the proto's JSON names); failures as JSON on standard error.")
    var json = false

    var endpoint: Endpoint { self.server.endpoint }
    var dataDirectory: String { self.dataDirectoryFlag ?? "./data" }

    mutating func validate() throws {
        self.credential = try self.credential ?? PorticoEnvironment.string("PORTICO_CREDENTIAL")
        self.dataDirectoryFlag = try self.dataDirectoryFlag ?? PorticoEnvironment.string("PORTICO_DATA_DIR")
        guard self.timeout > 0, self.timeout <= 86_400 else {
            throw ValidationError("--timeout must be more than 0 and at most 86400 seconds")
        }
    }

    /// The credential to send: the flag, the variable, or the operator key file of the data directory.
    /// - Throws: `CommandFailure` naming every place it looked, when none holds one.
    func resolvedCredential() throws -> String {
        if let credential = self.credential { return credential }
        let file = (self.dataDirectory as NSString).appendingPathComponent("operator.key")
        guard FileManager.default.fileExists(atPath: file) else {
            throw CommandFailure(
                "no credential: no --credential flag, PORTICO_CREDENTIAL is not set, and there is no operator "
                    + "key at \(file) (give --data-dir or PORTICO_DATA_DIR the server's data directory)")
        }
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot read the operator key at \(file): \(Self.describe(error))")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { throw CommandFailure("\(file) is empty: it should hold the server's operator key") }
        return key
    }

    /// Calls `rpc` with `request` and prints the answer, as text or JSON.
    func call<RPC: PorticoRPC>(_ rpc: RPC.Type, _ request: RPC.Request) async throws {
        let response = try await self.send(rpc, request)
        self.print(response)
    }

    /// Prints an answer as text or JSON.
    func print(_ response: some WireMessage) {
        Swift.print(self.json ? Render.json(response) : Render.text(response))
    }

    /// Calls `rpc` with `request` and returns the answer.
    /// - Parameter credential: false for the RPCs that need none (Ping, GetServerInfo).
    /// - Throws: `CommandFailure` with the server's status, or the reason it could not be reached.
    func send<RPC: PorticoRPC>(_ rpc: RPC.Type, _ request: RPC.Request, credential: Bool = true) async throws
        -> RPC.Response
    {
        try await Self.send(
            rpc, request,
            to: self.endpoint,
            credential: credential ? try self.resolvedCredential() : "",
            onBehalfOf: self.onBehalfOf,
            timeout: .milliseconds(Int64(self.timeout * 1000)),
            idempotencyKey: self.idempotencyKey
        )
    }

    /// One call on a connection of its own, closed before returning.
    /// - Throws: `CommandFailure` with the server's status, or the reason it could not be reached.
    static func send<RPC: PorticoRPC>(
        _ rpc: RPC.Type, _ request: RPC.Request, to endpoint: Endpoint, credential: String, onBehalfOf: UInt64? = nil,
        timeout: Duration, idempotencyKey: String? = nil
    ) async throws -> RPC.Response {
        let client = PorticoClient(
            configuration: ClientConfiguration(
                host: endpoint.host,
                port: endpoint.port,
                credential: credential,
                connections: 1,
                connectTimeout: min(timeout, .seconds(5))
            )
        )
        do {
            let response = try await client.call(
                rpc, request,
                options: CallOptions(onBehalfOfPersonID: onBehalfOf, timeout: timeout, idempotencyKey: idempotencyKey))
            await client.close()
            return response
        } catch {
            await client.close()
            guard let status = error as? PorticoStatusError else { throw error }
            throw CommandFailure(status: status, address: endpoint.description)
        }
    }

    /// A file-system error in words: `permission denied` rather than Foundation's error domain and code.
    static func describe(_ error: any Error) -> String {
        let cocoa = error as NSError
        if let posix = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code))).lowercased()
        }
        return cocoa.localizedDescription
    }
}

/// The server a command calls: `--address`, else `PORTICO_ADDRESS`, else 127.0.0.1:7700.
struct ServerAddressOptions: ParsableArguments {
    @Option(
        name: .customLong("address"),
        help: ArgumentHelp(
            "The server, as HOST:PORT. Default: PORTICO_ADDRESS, else 127.0.0.1:7700.", valueName: "host:port"))
    var addressFlag: String?

    /// The server. `validate()` has checked the flag or variable already, so the fall-back is never taken.
    var endpoint: Endpoint { (try? Endpoint(parsing: self.addressFlag ?? Endpoint.defaultAddress)) ?? Endpoint() }

    mutating func validate() throws {
        if let flag = self.addressFlag {
            _ = try Endpoint(parsing: flag, source: "--address")
        } else if let variable = try PorticoEnvironment.string("PORTICO_ADDRESS") {
            _ = try Endpoint(parsing: variable, source: "PORTICO_ADDRESS")
            self.addressFlag = variable
        }
    }
}

/// A server's host and port, parsed from `HOST:PORT` (an IPv6 host in brackets: `[::1]:7700`).
struct Endpoint: CustomStringConvertible, Equatable {
    static let defaultAddress = "127.0.0.1:7700"

    var host = "127.0.0.1"
    var port = 7700

    init() {}

    /// - Parameter source: the flag or variable the text came from, for the error.
    init(parsing text: String, source: String = "--address") throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw ValidationError("\(source) must be HOST:PORT with a port from 1 to 65535, not '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("\(source) must name a host: HOST:PORT, not '\(text)'") }
        self.host = host
        self.port = port
    }

    var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}
