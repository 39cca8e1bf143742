import GRPCCore
import PorticoGRPC
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// The native port's limits on the gRPC endpoint, against clients that try to defeat them.
@Suite("gRPC endpoint: limits")
struct GRPCLimitTests {
    @Test("the server announces its stream limit; a client that opens a stream beyond it loses its connection only")
    func concurrentStreams() async throws {
        let store = GatedStore(closed: true)
        try await GRPCTestEndpoint.with(grpc: GRPCConfiguration(port: 0, maxConcurrentStreams: 3), store: store) {
            endpoint in
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                #expect(connection.serverSettings[0x3] == 3, "SETTINGS_MAX_CONCURRENT_STREAMS")
                // Three writes held in the store keep three streams open.
                for index in 0..<3 {
                    try await connection.send(
                        stream: connection.newStream(),
                        headers: RawHTTP2Connection.grpcHeaders(
                            path: PorticoService.CreatePortfolio.path,
                            [("authorization", "Bearer \(endpoint.operatorKey)")]),
                        body: RawHTTP2Connection.grpcMessage(try CreatePortfolioRequest(name: "p\(index)").encoded())
                    )
                }
                await store.waitForArrivals(1)
                // A fourth stream breaks the limit the client acknowledged: swift-nio-http2 takes that as a
                // connection error (RFC 9113 5.1.2 allows a stream or a connection error), so the server
                // sends GOAWAY PROTOCOL_ERROR and closes this connection, without serving the fourth call.
                try await connection.send(
                    stream: connection.newStream(),
                    headers: RawHTTP2Connection.grpcHeaders(path: PorticoService.Ping.path),
                    body: RawHTTP2Connection.grpcMessage([])
                )
                try await connection.readUntilClosed()
                #expect(connection.closed)
                #expect(connection.goAway?.code == 0x1, "GOAWAY PROTOCOL_ERROR")
            }
            // Other connections are served, and the writes the closed connection started are committed.
            try await endpoint.withClient { client in
                _ = try await client.call(PorticoService.Ping.self, PingRequest())
                store.open()
                var names: Set<String> = []
                for _ in 0..<500 {
                    let listed = try await client.call(
                        PorticoService.ListPortfolios.self, ListPortfoliosRequest(), credential: endpoint.operatorKey)
                    names = Set(listed.portfolios.map(\.name))
                    if names.count == 3 { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(names == ["p0", "p1", "p2"])
            }
        }
    }

    @Test("connections over the limit are closed at once; a place freed is taken again")
    func connections() async throws {
        try await GRPCTestEndpoint.with(grpc: GRPCConfiguration(port: 0, maxConnections: 2)) { endpoint in
            let first = try await RawHTTP2Connection.connect(port: endpoint.port)
            let second = try await RawHTTP2Connection.connect(port: endpoint.port)
            try await GRPCBadInputTests.expectServes(first, key: endpoint.operatorKey)
            try await GRPCBadInputTests.expectServes(second, key: endpoint.operatorKey)
            #expect(endpoint.endpoint.connectionCount == 2)
            let third = try await RawHTTP2Connection.connect(port: endpoint.port)
            try await third.readUntilClosed()
            #expect(third.closed)
            await third.close()
            await first.close()
            // The place is freed once the server sees the close: bounded polling, no fixed sleep.
            for _ in 0..<500 where endpoint.endpoint.connectionCount > 1 {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await RawHTTP2Connection.with(port: endpoint.port) { fourth in
                try await GRPCBadInputTests.expectServes(fourth, key: endpoint.operatorKey)
            }
            await second.close()
        }
    }

    @Test("a request over the message size is refused RESOURCE_EXHAUSTED; an answer over it too")
    func messageSize() async throws {
        try await GRPCTestEndpoint.with(grpc: GRPCConfiguration(port: 0, maxMessageBytes: 1024)) { endpoint in
            try await endpoint.withClient { client in
                await expectRPCError(.resourceExhausted) {
                    try await client.call(
                        PorticoService.CreatePortfolio.self,
                        CreatePortfolioRequest(name: String(repeating: "x", count: 2000)),
                        credential: endpoint.operatorKey)
                }
                for index in 0..<40 {
                    _ = try await client.call(
                        PorticoService.CreatePortfolio.self,
                        CreatePortfolioRequest(name: "portfolio with a long enough name \(index)"),
                        credential: endpoint.operatorKey)
                }
                await expectRPCError(.resourceExhausted, reason: "FRAME_TOO_LARGE") {
                    try await client.call(
                        PorticoService.ListPortfolios.self, ListPortfoliosRequest(pageSize: 1000),
                        credential: endpoint.operatorKey)
                }
                // The endpoint still serves.
                _ = try await client.call(PorticoService.Ping.self, PingRequest())
            }
        }
    }

    @Test("writes keep their place until their work ends, even once their deadline has answered them")
    func callBudget() async throws {
        let store = GatedStore(closed: true)
        try await GRPCTestEndpoint.with(grpc: GRPCConfiguration(port: 0, maxCallsInFlight: 1), store: store) {
            endpoint in
            // Held in the store past its deadline: the server answers DEADLINE_EXCEEDED (a raw peer, which
            // has no deadline of its own, hears the server's answer), and the write goes on. 2 s, so that
            // a loaded machine reaches the store before the deadline (at 50 ms it sometimes did not).
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                let stream = connection.newStream()
                try await connection.send(
                    stream: stream,
                    headers: RawHTTP2Connection.grpcHeaders(
                        path: PorticoService.CreatePortfolio.path,
                        [("authorization", "Bearer \(endpoint.operatorKey)"), ("grpc-timeout", "2S")]),
                    body: RawHTTP2Connection.grpcMessage(try CreatePortfolioRequest(name: "held").encoded())
                )
                let answer = try await connection.answer(on: stream)
                #expect(answer.grpcStatus == 4, "\(answer)")
                #expect(answer.errorDetail?.reason == "DEADLINE_EXCEEDED", "\(answer)")
            }
            #expect(endpoint.endpoint.callsInFlight == 1)
            try await endpoint.withClient { client in
                // Refused at once; a deadline makes a write wrongly let through (and held) fail, not hang.
                await expectRPCError(.resourceExhausted, reason: "TOO_MANY_CALLS") {
                    try await client.call(
                        PorticoService.CreatePortfolio.self, CreatePortfolioRequest(name: "second"),
                        credential: endpoint.operatorKey, timeout: .seconds(10))
                }
                // Reads do not count against writes.
                _ = try await client.call(
                    PorticoService.ListPortfolios.self, ListPortfoliosRequest(), credential: endpoint.operatorKey)
                store.open()
                for _ in 0..<500 where endpoint.endpoint.callsInFlight > 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(endpoint.endpoint.callsInFlight == 0)
                // The held write was committed whatever its deadline said.
                let listed = try await client.call(
                    PorticoService.ListPortfolios.self, ListPortfoliosRequest(), credential: endpoint.operatorKey)
                #expect(listed.portfolios.map(\.name) == ["held"])
                _ = try await client.call(
                    PorticoService.CreatePortfolio.self, CreatePortfolioRequest(name: "third"),
                    credential: endpoint.operatorKey)
            }
        }
    }
}
