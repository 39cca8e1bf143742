import PorticoClient
import PorticoWire
import Testing

@Suite("Pooled client against a fake server")
struct ClientTests {
    @Test("10,000 concurrent calls over 3 connections each get their own answer")
    func manyConcurrentCalls() async throws {
        let server = try await FakeServer.start()
        let client = PorticoClient(configuration: ClientConfiguration(port: server.port, connections: 3))
        #expect(server.snapshot.connections == 0)

        try await withThrowingDiscardingTaskGroup { group in
            for assetID in UInt64(1)...10_000 {
                group.addTask {
                    let answer = try await client.checkPermission(check(assetID))
                    #expect(answer.revision == assetID && answer.allowed == assetID.isMultiple(of: 2))
                }
            }
        }

        let log = server.snapshot
        #expect(log.connections == 3 && log.requests.count == 10_000)
        #expect(Set(log.requests.map(\.connection)).count == 3)
        await client.close()
        await server.stop()
    }

    @Test("calls in flight fail UNAVAILABLE when the connection is lost, and the next call reconnects")
    func reconnectAfterLoss() async throws {
        let server = try await FakeServer.start { header, _ in header.knownMethod == .ping ? .answer : .hold }
        let client = PorticoClient(configuration: ClientConfiguration(port: server.port))

        let failures = try await failuresAfterDisconnect(of: 3, through: client, server: server)
        #expect(failures.count == 3 && failures.allSatisfy { $0?.code == .unavailable })
        _ = try await client.ping()

        #expect(server.snapshot.connections == 2)
        await client.close()
        await server.stop()
    }

    @Test("after GOAWAY, calls the server did not process are retried once on a fresh connection")
    func goAwayRetries() async throws {
        let server = try await FakeServer.start { _, _ in .hold }
        let client = PorticoClient(configuration: ClientConfiguration(port: server.port))

        try await withThrowingDiscardingTaskGroup { group in
            for assetID in UInt64(1)...4 {
                group.addTask {
                    let answer = try await client.checkPermission(check(assetID))
                    #expect(answer.revision == assetID)
                }
            }
            try await server.waitUntil { $0.requests.count == 4 }
            try await server.goAway(lastCallID: 2)
            // Calls 3 and 4 come again on a second connection.
            try await server.waitUntil { $0.requests.count == 6 }
            try await server.answerHeld()
        }

        let requests = server.snapshot.requests
        #expect(requests.filter { $0.connection == 0 }.count == 4)
        #expect(
            Set(requests.filter { $0.connection == 1 }.map(\.assetID))
                == Set(requests.filter { $0.header.callID > 2 && $0.connection == 0 }.map(\.assetID)))
        await client.close()
        await server.stop()
    }

    @Test("a server that is not listening gives UNAVAILABLE naming host and port, and the client keeps trying")
    func connectionRefused() async throws {
        let port = try await FakeServer.closedPort()
        let client = PorticoClient(configuration: ClientConfiguration(port: port, connections: 2))

        for _ in 0..<3 {
            let failure = await status { try await client.ping() }
            #expect(failure?.code == .unavailable)
            #expect(failure?.message.contains("127.0.0.1:\(port)") == true)
        }
        await client.close()
    }

    @Test("closing the client fails calls in flight and later calls with UNAVAILABLE")
    func close() async throws {
        let server = try await FakeServer.start { _, _ in .hold }
        let client = PorticoClient(configuration: ClientConfiguration(port: server.port, connections: 2))

        let waiting = Task { await status { try await client.checkPermission(check(1)) } }
        try await server.waitUntil { $0.requests.count == 1 }
        await client.close()

        #expect(await waiting.value?.code == .unavailable)
        #expect(await status { try await client.ping() }?.code == .unavailable)
        await server.stop()
    }
}
