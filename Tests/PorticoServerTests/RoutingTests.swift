import NIOCore
import PorticoCore
import PorticoTestSupport
import PorticoWire
import Testing

@testable import PorticoServer

/// The generated routing: every method value reaches the handler of its own RPC, and none is answered
/// UNIMPLEMENTED by a live server.
@Suite("Routing of every RPC")
struct RoutingTests {
    /// How a router was asked to serve a call: the kind of handler, and the RPC it was handed.
    struct Routed: Equatable {
        enum Kind { case open, read, write, stream, unknown }
        var kind: Kind
        var rpc: ObjectIdentifier?
    }

    /// A router that only records what `route(_:to:)` hands it.
    struct RecordingRouter: PorticoServiceRouter {
        typealias Handler = Dispatcher
        var routed: [Routed] = []

        mutating func open<RPC: PorticoRPC>(_ rpc: RPC.Type, _ handle: (RPC.Request) throws -> RPC.Response) {
            self.routed.append(Routed(kind: .open, rpc: ObjectIdentifier(rpc)))
        }

        mutating func read<RPC: PorticoRPC>(
            _ rpc: RPC.Type,
            _ handle: (RPC.Request, inout CallContext) throws -> RPC.Response
        ) {
            self.routed.append(Routed(kind: .read, rpc: ObjectIdentifier(rpc)))
        }

        mutating func write<RPC: PorticoRPC>(
            _ rpc: RPC.Type,
            _ handle: @escaping @Sendable (RPC.Request, CallContext) async throws -> RPC.Response
        ) {
            self.routed.append(Routed(kind: .write, rpc: ObjectIdentifier(rpc)))
        }

        mutating func stream<RPC: PorticoRPC>(
            _ rpc: RPC.Type,
            _ open: (RPC.Request, inout CallContext) throws -> WatchFeed
        ) {
            self.routed.append(Routed(kind: .stream, rpc: ObjectIdentifier(rpc)))
        }

        mutating func unknown(_ method: Method) {
            self.routed.append(Routed(kind: .unknown, rpc: nil))
        }
    }

    @Test("every method value is routed once, to the RPC it names; only Ping and GetServerInfo need no credential")
    func everyMethodRouted() async throws {
        let dispatcher = Dispatcher(
            portico: try await Portico.open(),
            operatorKey: SecretDigest(of: OperatorKey.generate()),
            configuration: ServerConfiguration()
        )
        var open: [Method] = []
        var streams: [Method] = []
        var writes = 0
        for method in Method.allCases {
            var router = RecordingRouter()
            dispatcher.route(method, to: &router)
            try #require(router.routed.count == 1, "\(method.protoValueName)")
            let routed = router.routed[0]
            guard let rpc = method.rpc else {
                #expect(routed == Routed(kind: .unknown, rpc: nil), "\(method.protoValueName)")
                continue
            }
            #expect(routed.rpc == ObjectIdentifier(rpc), "\(method.protoValueName) reaches another RPC's handler")
            #expect(rpc.method == method)
            if routed.kind == .open { open.append(method) }
            if routed.kind == .write { writes += 1 }
            if routed.kind == .stream { streams.append(method) }
            #expect((routed.kind == .stream) == rpc.serverStreaming, "\(method.protoValueName)")
        }
        #expect(open == [.ping, .getServerInfo])
        #expect(streams == [.watch])
        // The service's changes (every RPC but the reads and checks of service.proto).
        #expect(writes == 27)
    }

    @Test("a live server answers every RPC, with an empty body, with a status other than UNIMPLEMENTED")
    func noneUnimplemented() async throws {
        try await TestServer.with { server in
            // Watch answers with a stream that stays open (WatchStreamTests): no final frame to count here.
            let methods = Method.allCases.filter { $0 != .unspecified && $0 != .watch }
            var bytes = WirePreface.bytes
            for (index, method) in methods.enumerated() {
                bytes += try requestBytes(
                    callID: UInt64(index + 1),
                    method: UInt32(method.rawValue),
                    credential: server.operatorKey,
                    body: PingRequest()
                )
            }
            let count = methods.count
            let (reply, _) = try await RawConnection.connect(port: server.port).exchange(bytes) { received in
                ((try? frames(in: received).count) ?? 0) >= count
            }
            let answers = try frames(in: reply)
            #expect(Set(answers.map(\.header.callID)) == Set((1...count).map { UInt64($0) }))
            for answer in answers {
                let method = methods[Int(answer.header.callID) - 1]
                #expect(answer.header.statusCode != .unimplemented, "\(method.protoValueName): \(answer.header)")
            }
        }
    }
}
