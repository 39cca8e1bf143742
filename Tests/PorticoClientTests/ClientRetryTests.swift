import PorticoClient
import PorticoWire
import Synchronization
import Testing

/// Resending changes whose answer was lost: only with an idempotency key, which the client makes.
@Suite("Pooled client: resending changes with idempotency keys")
struct ClientRetryTests {
    /// A server that closes the connection on the first `drops` requests of a change, then answers.
    private static func dropping(_ drops: Int) async throws -> FakeServer {
        let seen = Mutex(0)
        return try await FakeServer.start { header, _ in
            guard header.knownMethod == .createPortfolio || header.knownMethod == .checkPermission else {
                return .answer
            }
            let count = seen.withLock { count in
                count += 1
                return count
            }
            return count <= drops ? .disconnect : .empty
        }
    }

    @Test("a change whose answer was lost is sent again on a new connection with the same generated key")
    func resendsWithTheSameKey() async throws {
        let server = try await Self.dropping(2)
        let client = PorticoClient(configuration: ClientConfiguration(port: server.port, changeRetries: 2))

        _ = try await client.createPortfolio(CreatePortfolioRequest(name: "Acme"))

        let requests = server.snapshot.requests.filter { $0.header.knownMethod == .createPortfolio }
        #expect(requests.count == 3)
        #expect(Set(requests.map(\.connection)).count == 3, "each copy on a connection of its own")
        let keys = Set(requests.map(\.header.idempotencyKey))
        #expect(keys.count == 1 && !(keys.first ?? "").isEmpty, "one key, generated, on every copy: \(keys)")
        #expect(keys.first?.hasPrefix("psw_") == true && keys.first?.count == 36)
        await client.close()
        await server.stop()
    }

    @Test("a key the caller names is the key sent; two calls get two generated keys")
    func namedAndGeneratedKeys() async throws {
        let server = try await Self.dropping(0)
        let client = PorticoClient(configuration: ClientConfiguration(port: server.port))

        _ = try await client.createPortfolio(.init(name: "A"), options: CallOptions(idempotencyKey: "order-17"))
        _ = try await client.createPortfolio(.init(name: "B"))
        _ = try await client.createPortfolio(.init(name: "C"))
        _ = try await client.checkPermission(CheckPermissionRequest(assetID: 2))

        let keys = server.snapshot.requests.map(\.header.idempotencyKey)
        #expect(keys.count == 4 && keys[0] == "order-17" && keys[1] != keys[2] && !keys[1].isEmpty)
        #expect(keys[3].isEmpty, "a read carries no key")
        await client.close()
        await server.stop()
    }

    @Test("without a key, a change whose answer was lost fails UNAVAILABLE and is sent once")
    func noKeyNoResend() async throws {
        let server = try await Self.dropping(1)
        let client = PorticoClient(
            configuration: ClientConfiguration(port: server.port, generatesIdempotencyKeys: false))

        let error = await #expect(throws: PorticoStatusError.self) {
            _ = try await client.createPortfolio(CreatePortfolioRequest(name: "Acme"))
        }
        #expect(error?.code == .unavailable)
        #expect(server.snapshot.requests.filter { $0.header.knownMethod == .createPortfolio }.count == 1)
        await client.close()
        await server.stop()
    }

    @Test("a read whose answer was lost is not sent again; a change is resent at most changeRetries times")
    func readsAndTheRetryBound() async throws {
        let server = try await Self.dropping(10)
        let client = PorticoClient(configuration: ClientConfiguration(port: server.port, changeRetries: 2))

        let read = await #expect(throws: PorticoStatusError.self) {
            _ = try await client.checkPermission(CheckPermissionRequest(assetID: 2))
        }
        #expect(read?.code == .unavailable)
        #expect(server.snapshot.requests.filter { $0.header.knownMethod == .checkPermission }.count == 1)

        let change = await #expect(throws: PorticoStatusError.self) {
            _ = try await client.createPortfolio(CreatePortfolioRequest(name: "Acme"))
        }
        #expect(change?.code == .unavailable)
        #expect(server.snapshot.requests.filter { $0.header.knownMethod == .createPortfolio }.count == 3)
        await client.close()
        await server.stop()
    }
}
