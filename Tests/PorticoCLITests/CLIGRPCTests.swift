import Foundation
import PorticoTestSupport
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PorticoGRPC
import PorticoWire
import Testing

/// `portico serve --grpc-address`: the gRPC endpoint beside the native port, as a person starts it.
@Suite("portico serve: the gRPC endpoint")
struct CLIGRPCTests {
    @Test("--grpc-address serves gRPC beside the native port, says where, and both stop at SIGTERM")
    func grpcAddress() async throws {
        let server = try await ServerProcess.start(arguments: ["--grpc-address", "127.0.0.1:0"])
        let line = try #require(
            server.program.stdout.split(separator: "\n").first {
                $0.hasPrefix("portico: grpc listening on 127.0.0.1:")
            },
            "\(server.program.stdout)")
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        let key = try server.operatorKey
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
            let created = try await client.call(
                PorticoService.CreatePortfolio.self, CreatePortfolioRequest(name: "over gRPC"), credential: key)
            // The native port sees what gRPC wrote.
            let listed = try await server.portico(["portfolio", "list", "--json"])
            #expect(listed.status == 0, "\(listed)")
            #expect(listed.stdout.contains("over gRPC"))
            #expect(created.revision == 1)
        }
        await server.stop()
        #expect(!server.program.process.isRunning)
        #expect(server.program.process.terminationStatus == 0, "\(server.program.stderr)")
    }
}
