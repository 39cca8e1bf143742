import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import PorticoCore
import PorticoGRPC
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// A live test server (``TestServer``: the native port, an in-process core, a manual clock) with the
/// gRPC endpoint beside it on its own ephemeral port, serving the native server's handlers.
struct GRPCTestEndpoint: Sendable {
    let server: TestServer
    let endpoint: PorticoGRPCServer
    let port: Int

    var operatorKey: String { self.server.operatorKey }

    /// Runs `body` with a fresh server and its gRPC endpoint, then stops both however `body` ends.
    /// - Parameter metrics: kept by both, when given.
    static func with<Value: Sendable>(
        configuration: ServerConfiguration = ServerConfiguration(port: 0),
        grpc: GRPCConfiguration = GRPCConfiguration(port: 0),
        store: any ChangeStore = InMemoryChangeStore(),
        metrics: ServerMetrics? = nil,
        _ body: (GRPCTestEndpoint) async throws -> Value
    ) async throws -> Value {
        try await TestServer.with(configuration: configuration, store: store, metrics: metrics) { server in
            var logger = Logger(label: "portico.grpc.test")
            logger.logLevel = .critical
            var grpc = grpc
            grpc.host = "127.0.0.1"
            let endpoint = PorticoGRPCServer(
                configuration: grpc, handlers: server.server.handlers, logger: logger, metrics: metrics)
            let running = Task { try await endpoint.run() }
            let result: Result<Value, any Error>
            do {
                let port = try await endpoint.localAddress.port!
                result = .success(try await body(GRPCTestEndpoint(server: server, endpoint: endpoint, port: port)))
            } catch {
                result = .failure(error)
            }
            running.cancel()
            _ = await running.result
            return try result.get()
        }
    }

    /// Runs `body` with a grpc-swift client connected to the endpoint, and closes it afterwards.
    func withClient<Value: Sendable>(
        _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Value
    ) async throws -> Value {
        try await Self.withClient(port: self.port, body)
    }

    static func withClient<Value: Sendable>(
        port: Int,
        security: HTTP2ClientTransport.Posix.TransportSecurity = .plaintext,
        _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Value
    ) async throws -> Value {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port),
            transportSecurity: security
        )
        return try await withGRPCClient(transport: transport) { client in
            try await body(client)
        }
    }
}

/// Expects `body` to fail with the gRPC status `code` and, when given, the `ErrorDetail` reason.
func expectRPCError<T>(
    _ code: RPCError.Code,
    reason: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch let error as RPCError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let reason {
            #expect(error.porticoErrorDetail?.reason == reason, "\(error)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}
