import NIOCore
import NIOPosix
import PorticoCore
import PorticoWire
import Synchronization

/// A client speaking raw frames, for tests that play a hostile or careless client: it sends any
/// bytes, optionally never reads, and collects the frames the server sends.
final class WireClient: Sendable {
    let channel: any Channel
    private let inbox: Inbox

    /// Connects to 127.0.0.1:`port`. With `reading: false` the client never reads a byte (so the
    /// server's answers pile up); `receiveBuffer` shrinks the socket's receive buffer so that they
    /// pile up in the server rather than in the kernel. `first` is written as soon as the connection is
    /// up, by its event loop: a test whose server times the preface from connecting sends it there,
    /// so that a test process too busy to resume at once does not make it late.
    /// `group` runs the client's connection (a test whose client must read on time gives it its own).
    static func connect(
        port: Int, reading: Bool = true, receiveBuffer: Int? = nil, first: [UInt8] = [],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WireClient {
        let inbox = Inbox()
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.autoRead, value: reading)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectingHandler(inbox: inbox, first: first))
                }
            }
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        return WireClient(channel: channel, inbox: inbox)
    }

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// The frames received so far, and whether the server closed the connection.
    var received: (frames: [Frame], closed: Bool) { self.inbox.state.withLock { ($0.frames, $0.closed) } }

    /// Waits until `condition` holds for the frames received, or the server closes the connection, or
    /// `limit` passes. Returns the frames and whether the connection was closed.
    @discardableResult
    func wait(
        limit: Duration = .seconds(10),
        until condition: ([Frame]) -> Bool = { _ in false }
    ) async throws -> (frames: [Frame], closed: Bool) {
        let end = ContinuousClock.now + limit
        while true {
            let (frames, closed) = self.received
            if closed || condition(frames) || ContinuousClock.now >= end { return (frames, closed) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func close() async {
        try? await self.channel.close()
    }

    /// Sends `bytes` without waiting for them to be written (a server that stops reading never takes them all).
    func sendWithoutWaiting(_ bytes: [UInt8]) {
        self.channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// Starts reading, for a client connected with `reading: false`.
    func startReading() async throws {
        try await self.channel.setOption(.autoRead, value: true).get()
        self.channel.read()
    }

    /// The error that ended the connection (a reset by the server, say), if one did.
    var error: String? { self.inbox.state.withLock { $0.error } }
}

private final class Inbox: Sendable {
    struct State {
        var frames: [Frame] = []
        var closed = false
        var error: String?
    }

    let state = Mutex(State())
}

/// Splits what the server sends into frames (it sends no preface) and keeps them.
private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: Inbox
    private let first: [UInt8]
    private var accumulator = FrameAccumulator(expectPreface: false)

    init(inbox: Inbox, first: [UInt8]) {
        self.inbox = inbox
        self.first = first
    }

    func channelActive(context: ChannelHandlerContext) {
        if !self.first.isEmpty { context.writeAndFlush(NIOAny(ByteBuffer(bytes: self.first)), promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.accumulator.receive(Self.unwrapInboundIn(data))
        var frames: [Frame] = []
        while let frame = try? self.accumulator.next() { frames.append(frame) }
        self.accumulator.endRead(allocator: context.channel.allocator)
        self.inbox.state.withLock { $0.frames += frames }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inbox.state.withLock { $0.closed = true }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.inbox.state.withLock { $0.error = $0.error ?? "\(error)" }
        context.close(promise: nil)
    }
}

/// Request frames as bytes.
enum Wire {
    static func request(
        _ callID: UInt64,
        _ method: Method,
        credential: String = "",
        timeoutMicros: UInt64 = 0,
        body: some WireMessage
    ) throws -> [UInt8] {
        let header = FrameHeader.request(
            callID: callID, method: method, credential: credential, timeoutMicros: timeoutMicros)
        var buffer = ByteBuffer()
        try Frame.write(header: header, message: body, into: &buffer, arena: WireArena())
        return Array(buffer.readableBytesView)
    }

    static func ping(_ callID: UInt64) throws -> [UInt8] {
        try self.request(callID, .ping, body: PingRequest())
    }
}

/// A gate tasks wait at until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Returns at once if the gate is open, else once it opens.
    func wait() async {
        await withCheckedContinuation { continuation in
            let go = self.state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
    }

    /// Lets every waiting task and every later one through.
    func open() {
        let waiters = self.state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Holds later tasks until `open()`.
    func close() { self.state.withLock { $0.open = false } }
}

/// A store whose appends wait at a gate the test opens, so that writes stay in flight for as long as
/// a test needs, without timing.
final class GateStore: ChangeStore {
    private let inner = InMemoryChangeStore()
    private let gate = Gate()

    func append(_ batch: [Change]) async throws {
        await self.gate.wait()
        try await self.inner.append(batch)
    }

    func load() async throws -> [Change] { try await self.inner.load() }

    /// Lets every held append and every later one through.
    func open() { self.gate.open() }

    /// Holds later appends until `open()`.
    func close() { self.gate.close() }
}
