import GRPCCore
import NIOCore
import PorticoCore
import PorticoGRPC
import PorticoServer
import PorticoTestSupport
import PorticoWire
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// Watch over gRPC: the same stream as on the native port (history, then live, each revision once),
/// its authorization, and its end at a drain with the revision to resume from.
@Suite("gRPC endpoint: Watch")
struct GRPCWatchTests {
    @Test("history then a live change, each once; refused without the right; cancelling frees the stream")
    func historyThenLive() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            let native = endpoint.server.client()
            let fixture = try await ServerFixture.build(native)
            let head = endpoint.server.portico.snapshot.revision
            try await endpoint.withClient { client in
                let seen = Mutex<[UInt64]>([])
                let live = Mutex<UInt64>(0)
                try await client.stream(
                    PorticoService.Watch.self, WatchRequest(afterRevision: 0), credential: endpoint.operatorKey
                ) { item in
                    let revision = item.event?.revision ?? 0
                    let count = seen.withLock { seen in
                        seen.append(revision)
                        return seen.count
                    }
                    if count == Int(head) {
                        let made = try await native.addApp(.init(portfolioID: fixture.portfolio, name: "live"))
                        live.withLock { $0 = made.revision }
                    }
                    return revision < live.withLock { $0 } || count < Int(head) + 1
                }
                #expect(seen.withLock { $0 } == Array(1...(head + 1)))
                await expectRPCError(.permissionDenied, reason: "PERMISSION_DENIED") {
                    try await client.stream(
                        PorticoService.Watch.self, WatchRequest(), credential: fixture.adminToken
                    ) { _ in false }
                }
                await expectRPCError(.unauthenticated, reason: "MISSING_CREDENTIAL") {
                    try await client.stream(PorticoService.Watch.self, WatchRequest()) { _ in false }
                }
                await expectRPCError(.unavailable, reason: "REVISION_NOT_VISIBLE") {
                    try await client.stream(
                        PorticoService.Watch.self, WatchRequest(afterRevision: head + 100),
                        credential: endpoint.operatorKey
                    ) { _ in false }
                }
            }
            #expect(
                try await eventually {
                    endpoint.endpoint.watchStreams == 0 && endpoint.server.portico.revisionWaiters == 0
                })
            #expect(endpoint.endpoint.watchStreams == 0)
            #expect(endpoint.server.portico.revisionWaiters == 0)
        }
    }

    @Test("a draining endpoint ends the stream UNAVAILABLE with the revision to resume from")
    func drain() async throws {
        let (server, key) = try await GRPCLifecycleTests.endpoint()
        try await testGracefulShutdown { trigger in
            let running = Task { try await server.run() }
            let port = try await server.localAddress.port!
            try await GRPCTestEndpoint.withClient(port: port) { client in
                let head = try await client.call(
                    PorticoService.CreatePortfolio.self, CreatePortfolioRequest(name: "one"), credential: key
                ).revision
                let watching = Task {
                    do {
                        try await client.stream(PorticoService.Watch.self, WatchRequest(), credential: key) { _ in true
                        }
                        return nil as RPCError?
                    } catch let error as RPCError {
                        return error
                    }
                }
                #expect(try await eventually { server.watchStreams == 1 })
                trigger.triggerGracefulShutdown()
                let ended = try #require(await watching.value)
                #expect(ended.code == .unavailable, "\(ended)")
                #expect(ended.porticoErrorDetail?.reason == "GOING_AWAY", "\(ended)")
                #expect(ended.porticoErrorDetail?.resumeRevision == head)
            }
            _ = await running.result
            #expect(server.watchStreams == 0)
        }
    }
}
