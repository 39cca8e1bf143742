#if canImport(Glibc)
    import Glibc
#endif
import NIOCore
import NIOPosix
import PorticoReasons
import PorticoWire
import Synchronization

/// What the fake server does with one request.
enum FakeAction: Sendable {
    /// Ping: an empty answer; CheckPermission: `allowed` when the asset id is even, `revision` = asset id.
    case answer
    /// Keep the request until ``FakeServer/answerHeld()``; never answered otherwise.
    case hold
    /// Keep requests until this many are held on the connection, then answer them all, newest first.
    case holdUntil(Int)
    /// Answer with a failed status.
    case fail(StatusCode, String, ErrorDetail?)
    /// Answer OK with a body that does not decode.
    case garbage
    /// Answer OK with an empty body: any response message with every field at its default.
    case empty
    /// Close the connection without answering: the request was read, its answer is lost.
    case disconnect
}

/// A request as the fake server saw it.
struct SeenFrame: Sendable {
    var connection: Int
    var header: FrameHeader
    /// The asset id of a CheckPermission request.
    var assetID: UInt64?
}

/// Everything the fake server observed, shared by its connections.
struct FakeServerLog: Sendable {
    var connections = 0
    /// The first bytes of each connection, up to the preface's length.
    var prefaces: [[UInt8]] = []
    var frames: [SeenFrame] = []
    /// Call ids in the order their answers were written.
    var answered: [UInt64] = []

    var requests: [SeenFrame] { self.frames.filter { $0.header.kind == .request } }
    var cancels: [SeenFrame] { self.frames.filter { $0.header.kind == .cancel } }
}

/// A small Portico server on 127.0.0.1 for the client's tests: it speaks the framing with PorticoWire,
/// answers Ping and CheckPermission, and misbehaves on request (holds, errors, GOAWAY, disconnects).
final class FakeServer: Sendable {
    /// What the server does with each request; the check request is decoded when there is one.
    typealias Policy = @Sendable (FrameHeader, CheckPermissionRequest?) -> FakeAction

    let policy: Policy
    private let listener = Mutex<(any Channel)?>(nil)
    private let boundPort = Atomic<Int>(0)
    private let log = Mutex(FakeServerLog())
    private let handlers = Mutex<[NIOLoopBound<FakeConnectionHandler>]>([])

    private init(policy: @escaping Policy) {
        self.policy = policy
    }

    /// The port the server listens on.
    var port: Int { self.boundPort.load(ordering: .relaxed) }

    /// Starts a server on an ephemeral port of 127.0.0.1.
    static func start(policy: @escaping Policy = { _, _ in .answer }) async throws -> FakeServer {
        let server = FakeServer(policy: policy)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let connection = server.register()
                    let handler = FakeConnectionHandler(server: server, connection: connection)
                    try child.pipeline.syncOperations.addHandlers(
                        PrefaceRecorder(server: server, connection: connection),
                        ByteToMessageHandler(FrameDecoder(expectPreface: true)),
                        handler
                    )
                    server.handlers.withLock { $0.append(NIOLoopBound(handler, eventLoop: child.eventLoop)) }
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        server.boundPort.store(channel.localAddress!.port!, ordering: .relaxed)
        server.listener.withLock { $0 = channel }
        return server
    }

    /// A port of 127.0.0.1 that was just free and has nothing listening on it.
    /// A port of 127.0.0.1 where a connection is refused: a socket bound to it that never listens, and is
    /// kept open until the test process ends, so that no other test's server can take the port meanwhile
    /// (a port merely closed again could be reused by any server binding port 0, and a call would then
    /// reach it, or wait on it forever).
    static func closedPort() async throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClosedPortUnavailable() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw ClosedPortUnavailable()
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct ClosedPortUnavailable: Error {}

    /// Stops listening and closes every connection.
    func stop() async {
        let channel = self.listener.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        await self.closeConnections()
    }

    var snapshot: FakeServerLog { self.log.withLock { $0 } }

    /// Waits, polling, until `condition` holds of the log.
    /// - Throws: when it does not hold within a few seconds: a guard against a hanging test, not a timing check.
    func waitUntil(_ condition: (FakeServerLog) -> Bool) async throws {
        for _ in 0..<1_000 {
            if condition(self.snapshot) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw FakeServerTimeout()
    }

    /// Sends GOAWAY with `lastCallID` on every connection.
    func goAway(lastCallID: UInt64) async throws {
        try await self.onEveryConnection { $0.goAway(lastCallID: lastCallID) }
    }

    /// Answers every held request on every connection.
    func answerHeld() async throws {
        try await self.onEveryConnection { $0.answerHeld() }
    }

    /// Closes every connection from the server side.
    func closeConnections() async {
        try? await self.onEveryConnection { $0.close() }
    }

    private func onEveryConnection(_ body: @escaping @Sendable (FakeConnectionHandler) -> Void) async throws {
        for handler in self.handlers.withLock({ $0 }) {
            try await handler.eventLoop.submit { body(handler.value) }.get()
        }
    }

    fileprivate func register() -> Int {
        self.log.withLock { log in
            log.connections += 1
            log.prefaces.append([])
            return log.connections - 1
        }
    }

    fileprivate func record(_ update: (inout FakeServerLog) -> Void) {
        self.log.withLock { update(&$0) }
    }
}

struct FakeServerTimeout: Error {}

/// Notes the first bytes of a connection, which should be the preface, and passes everything on.
private final class PrefaceRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let server: FakeServer
    private let connection: Int
    private var seen = 0

    init(server: FakeServer, connection: Int) {
        self.server = server
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        if self.seen < WirePreface.bytes.count {
            let length = min(buffer.readableBytes, WirePreface.bytes.count - self.seen)
            let bytes = buffer.getBytes(at: buffer.readerIndex, length: length) ?? []
            self.seen += bytes.count
            self.server.record { $0.prefaces[self.connection].append(contentsOf: bytes) }
        }
        context.fireChannelRead(data)
    }
}

/// One connection of the fake server.
final class FakeConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private let server: FakeServer
    private let connection: Int
    private let arena = WireArena()
    private var context: ChannelHandlerContext?
    private var held: [(FrameHeader, CheckPermissionRequest?)] = []
    private var holdUntil: Int?

    init(server: FakeServer, connection: Int) {
        self.server = server
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        var check: CheckPermissionRequest?
        if frame.header.kind == .request, frame.header.knownMethod == .checkPermission {
            check = try? CheckPermissionRequest(decoding: frame.body, arena: self.arena)
        }
        self.server.record { log in
            log.frames.append(SeenFrame(connection: self.connection, header: frame.header, assetID: check?.assetID))
        }
        guard frame.header.kind == .request else { return }
        switch self.server.policy(frame.header, check) {
        case .answer:
            self.answer(frame.header, check)
        case .hold:
            self.held.append((frame.header, check))
        case .holdUntil(let count):
            self.held.append((frame.header, check))
            if self.held.count >= count {
                for (header, check) in self.held.reversed() { self.answer(header, check) }
                self.held.removeAll()
            }
        case .fail(let code, let message, let detail):
            let header = FrameHeader(
                kind: .response,
                callID: frame.header.callID,
                statusCode: code,
                statusMessage: message,
                errorDetail: detail
            )
            self.write(Frame(header: header))
        case .garbage:
            self.write(
                Frame(header: .response(callID: frame.header.callID), body: ByteBuffer(bytes: [0xff, 0xff, 0xff])))
        case .empty:
            self.write(Frame(header: .response(callID: frame.header.callID)))
        case .disconnect:
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func goAway(lastCallID: UInt64) {
        self.write(Frame(header: .goAway(lastCallID: lastCallID, message: "the fake server is going away")))
        self.context?.flush()
    }

    func answerHeld() {
        for (header, check) in self.held { self.answer(header, check) }
        self.held.removeAll()
        self.context?.flush()
    }

    func close() {
        self.context?.close(promise: nil)
    }

    private func answer(_ header: FrameHeader, _ check: CheckPermissionRequest?) {
        guard let context = self.context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        switch header.knownMethod {
        case .ping:
            try! Frame.write(
                header: .response(callID: header.callID), message: PingResponse(), into: &buffer, arena: self.arena)
        case .checkPermission:
            let assetID = check?.assetID ?? 0
            let response = CheckPermissionResponse(
                allowed: assetID % 2 == 0,
                reason: assetID % 2 == 0 ? .assigned : .notAssigned,
                revision: assetID
            )
            try! Frame.write(
                header: .response(callID: header.callID), message: response, into: &buffer, arena: self.arena)
        default:
            let error = WireError(
                code: .unimplemented, reason: .unknownMethod,
                message: "the fake server only answers Ping and CheckPermission")
            try! Frame(header: .failure(callID: header.callID, error)).write(into: &buffer, arena: self.arena)
        }
        self.server.record { $0.answered.append(header.callID) }
        context.write(Self.wrapOutboundOut(buffer), promise: nil)
    }

    private func write(_ frame: Frame) {
        guard let context = self.context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        try! frame.write(into: &buffer, arena: self.arena)
        self.server.record { $0.answered.append(frame.header.callID) }
        context.write(Self.wrapOutboundOut(buffer), promise: nil)
    }
}
