import Glibc
import NIOCore
import Testing

@testable import PorticoGRPC

/// The socket options the gRPC endpoint sets on the connections it accepts, read back from the socket.
@Suite("gRPC endpoint: socket options")
struct GRPCSocketOptionTests {
    @Test("an accepted connection has TCP_NODELAY at the TCP level, and not SO_DEBUG (its number at the socket level)")
    func noDelay() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                try await GRPCBadInputTests.expectServes(connection, key: endpoint.operatorKey)
                let channels = endpoint.endpoint.connections.channels
                let accepted = try #require(channels.first, "the endpoint holds no accepted connection")
                #expect(channels.count == 1)
                // Small answers go out at once, not held back by Nagle's algorithm for an ACK.
                #expect(try await accepted.getOption(.tcpOption(.tcp_nodelay)) == 1)
                // SO_DEBUG needs CAP_NET_ADMIN: a process without it would have every accept refused.
                let debug = NIOBSDSocket.Option(rawValue: SO_DEBUG)
                #expect(try await accepted.getOption(.socketOption(debug)) == 0)
            }
        }
    }
}
