import Foundation
import NIOCore
import NIOHPACK
import NIOPosix
import PorticoWire

/// An HTTP/2 peer that writes frames byte by byte, for what no well-behaved client sends: requests
/// that are not gRPC, malformed or oversized messages, bad metadata, more streams than allowed. It
/// reads the server's frames back and gathers each stream's answer.
final class RawHTTP2Connection {
    /// One HTTP/2 frame, as it crossed the wire.
    struct Frame {
        let type: UInt8
        let flags: UInt8
        let stream: UInt32
        var payload: ByteBuffer
    }

    /// What came back on one stream.
    struct Answer {
        var headers: HPACKHeaders = [:]
        var data: [UInt8] = []
        var trailers: HPACKHeaders = [:]
        /// The error code of a RST_STREAM, if the stream was reset.
        var reset: UInt32?

        /// gRPC's status: from the trailers, or a trailers-only answer's headers.
        var grpcStatus: Int? {
            (self.trailers.first(name: "grpc-status") ?? self.headers.first(name: "grpc-status")).flatMap { Int($0) }
        }
        var grpcMessage: String? {
            self.trailers.first(name: "grpc-message") ?? self.headers.first(name: "grpc-message")
        }
        var httpStatus: String? { self.headers.first(name: ":status") }

        /// The ErrorDetail of the trailing metadata `portico-error-detail-bin` (base64 on the wire).
        var errorDetail: ErrorDetail? {
            let value =
                self.trailers.first(name: "portico-error-detail-bin")
                ?? self.headers.first(name: "portico-error-detail-bin")
            guard let value else { return nil }
            var padded = value
            while padded.count % 4 != 0 { padded += "=" }
            guard let bytes = Data(base64Encoded: padded) else { return nil }
            return try? ErrorDetail(decoding: bytes)
        }

        /// The messages of the answer's gRPC frames (5-byte prefix each).
        var messages: [[UInt8]] {
            var out: [[UInt8]] = []
            var rest = self.data[...]
            while rest.count >= 5 {
                let length = rest.dropFirst().prefix(4).reduce(0) { $0 << 8 | Int($1) }
                let body = rest.dropFirst(5).prefix(length)
                out.append(Array(body))
                rest = rest.dropFirst(5 + length)
            }
            return out
        }
    }

    private let channel: any Channel
    private var inbound: AsyncStream<ByteBuffer>.AsyncIterator
    private var received = ByteBuffer()
    private var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
    private var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
    private var nextStream: UInt32 = 1
    /// The server's SETTINGS, by identifier.
    private(set) var serverSettings: [UInt16: UInt32] = [:]
    /// Whether the server's SETTINGS have come (and been acknowledged).
    private(set) var settingsReceived = false
    /// The GOAWAY the server sent, if any: (last stream id, error code).
    private(set) var goAway: (lastStream: UInt32, code: UInt32)?
    private(set) var closed = false

    private init(_ channel: any Channel, _ inbound: AsyncStream<ByteBuffer>) {
        self.channel = channel
        self.inbound = inbound.makeAsyncIterator()
    }

    /// Connects, sends the client preface and empty SETTINGS, and reads the server's SETTINGS and
    /// acknowledges them, as every HTTP/2 client does: the server holds a connection to the limits it
    /// announces (concurrent streams) only once they are acknowledged.
    static func connect(port: Int) async throws -> RawHTTP2Connection {
        let (inbound, received) = AsyncStream<ByteBuffer>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let connection = RawHTTP2Connection(channel, inbound)
        var preface = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        connection.append(type: 4, flags: 0, stream: 0, payload: ByteBuffer(), to: &preface)
        // A server that refuses the connection may have closed it already: the reads below tell.
        try? await connection.write(preface)
        // The server's SETTINGS come first; a server that refuses the connection closes it instead.
        for _ in 0..<16 where !connection.settingsReceived {
            guard try await connection.nextFrame() != nil else { break }
        }
        return connection
    }

    /// Hands what the server sends to the connection's reader, and tells it when the server closes.
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: AsyncStream<ByteBuffer>.Continuation

        init(_ received: AsyncStream<ByteBuffer>.Continuation) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.received.yield(Self.unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.received.finish()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private func write(_ bytes: ByteBuffer) async throws {
        try await self.channel.writeAndFlush(bytes)
    }

    /// Runs `body` with a new connection, closed however `body` ends.
    static func with<Value>(port: Int, _ body: (RawHTTP2Connection) async throws -> Value) async throws -> Value {
        let connection = try await Self.connect(port: port)
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    func close() async {
        try? await self.channel.close()
    }

    /// A new client stream id (odd, increasing).
    func newStream() -> UInt32 {
        defer { self.nextStream += 2 }
        return self.nextStream
    }

    /// The headers of a gRPC call of `path`, with `extra` metadata after the standard ones.
    static func grpcHeaders(path: String, _ extra: [(String, String)] = []) -> [(String, String)] {
        [
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"),
            ("content-type", "application/grpc"), ("te", "trailers"),
        ] + extra
    }

    /// One gRPC message: flag 0, a 4-byte length (`claimedLength`, or the real one), the bytes.
    static func grpcMessage(_ bytes: [UInt8], claimedLength: Int? = nil, compressed: Bool = false) -> [UInt8] {
        let length = UInt32(claimedLength ?? bytes.count)
        return [
            compressed ? 1 : 0, UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff),
            UInt8(length & 0xff),
        ] + bytes
    }

    /// Sends HEADERS (and DATA when `body` is given) on `stream`, ending the stream when asked.
    func send(stream: UInt32, headers: [(String, String)], body: [UInt8]? = nil, endStream: Bool = true) async throws {
        var out = ByteBuffer()
        var block = ByteBuffer()
        try self.encoder.encode(headers: HPACKHeaders(headers), to: &block)
        let headersEnd: UInt8 = body == nil && endStream ? 0x1 : 0
        self.append(type: 1, flags: 0x4 | headersEnd, stream: stream, payload: block, to: &out)
        if let body {
            self.append(type: 0, flags: endStream ? 0x1 : 0, stream: stream, payload: ByteBuffer(bytes: body), to: &out)
        }
        try await self.write(out)
    }

    /// Sends bytes that are not HTTP/2 at all.
    func sendRaw(_ bytes: [UInt8]) async throws {
        try await self.write(ByteBuffer(bytes: bytes))
    }

    /// Reads frames until `stream` has ended (END_STREAM or RST_STREAM) or the connection closes.
    func answer(on stream: UInt32) async throws -> Answer {
        var answer = Answer()
        var sawHeaders = false
        while let frame = try await self.nextFrame() {
            guard frame.stream == stream else { continue }
            var payload = frame.payload
            switch frame.type {
            case 1:
                let block = try self.decoder.decodeHeaders(from: &payload)
                if sawHeaders { answer.trailers = block } else { answer.headers = block }
                sawHeaders = true
            case 0:
                answer.data += payload.readBytes(length: payload.readableBytes) ?? []
            case 3:
                answer.reset = payload.readInteger(as: UInt32.self)
                return answer
            default:
                break
            }
            if frame.flags & 0x1 != 0 { return answer }
        }
        return answer
    }

    /// Reads until the server closes the connection, or `limit` frames have come.
    func readUntilClosed(limit: Int = 10_000) async throws {
        for _ in 0..<limit { guard try await self.nextFrame() != nil else { return } }
    }

    /// The next frame from the server, answering its SETTINGS and PINGs; nil once it has closed.
    func nextFrame() async throws -> Frame? {
        while true {
            if let frame = self.parseFrame() {
                try await self.handleConnectionFrame(frame)
                return frame
            }
            guard var more = await self.inbound.next() else {
                self.closed = true
                return nil
            }
            self.received.writeBuffer(&more)
        }
    }

    private func parseFrame() -> Frame? {
        guard self.received.readableBytes >= 9,
            let header = self.received.getBytes(at: self.received.readerIndex, length: 9)
        else { return nil }
        let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
        guard self.received.readableBytes >= 9 + length else { return nil }
        self.received.moveReaderIndex(forwardBy: 9)
        let stream = header[5...8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
        let payload = self.received.readSlice(length: length)!
        return Frame(type: header[3], flags: header[4], stream: stream, payload: payload)
    }

    private func handleConnectionFrame(_ frame: Frame) async throws {
        var payload = frame.payload
        switch frame.type {
        case 4 where frame.flags & 0x1 == 0:
            while let id = payload.readInteger(as: UInt16.self), let value = payload.readInteger(as: UInt32.self) {
                self.serverSettings[id] = value
            }
            var ack = ByteBuffer()
            self.append(type: 4, flags: 0x1, stream: 0, payload: ByteBuffer(), to: &ack)
            try? await self.write(ack)
            self.settingsReceived = true
        case 6 where frame.flags & 0x1 == 0:
            var pong = ByteBuffer()
            self.append(type: 6, flags: 0x1, stream: 0, payload: frame.payload, to: &pong)
            try? await self.write(pong)
        case 7:
            if let last = payload.readInteger(as: UInt32.self), let code = payload.readInteger(as: UInt32.self) {
                self.goAway = (last & 0x7fff_ffff, code)
            }
        default:
            break
        }
    }

    private func append(type: UInt8, flags: UInt8, stream: UInt32, payload: ByteBuffer, to out: inout ByteBuffer) {
        let length = payload.readableBytes
        out.writeBytes([UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags])
        out.writeInteger(stream & 0x7fff_ffff)
        var payload = payload
        out.writeBuffer(&payload)
    }
}
