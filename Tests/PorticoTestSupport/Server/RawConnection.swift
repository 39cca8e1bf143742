public import NIOCore
import NIOPosix
public import PorticoWire
import Synchronization

/// A plain TCP connection for sending the server arbitrary bytes and reading what comes back.
public struct RawConnection: Sendable {
    public let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    public static func connect(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true)
                    )
                }
            }
        return RawConnection(channel: channel)
    }

    /// Sends `bytes`, optionally closes the sending side, and reads until the server closes, until
    /// `enough` says the bytes so far suffice, or until `limit` passes. Returns what was read and
    /// whether the server closed the connection.
    public func exchange(
        _ bytes: [UInt8],
        halfClose: Bool = false,
        limit: Duration = .seconds(10),
        enough: @escaping @Sendable (ByteBuffer) -> Bool = { _ in false }
    ) async throws -> (ByteBuffer, closed: Bool) {
        try await self.channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            if halfClose { outbound.finish() }
            let timedOut = ManagedAtomicFlag()
            let timer = Task {
                try await Task.sleep(for: limit)
                timedOut.set()
                try await self.channel.channel.close()
            }
            defer { timer.cancel() }
            var received = ByteBuffer()
            do {
                for try await chunk in inbound {
                    received.writeImmutableBuffer(chunk)
                    if enough(received) { return (received, false) }
                }
            } catch {
                // Reset by the server, or closed by the timer.
                return (received, !timedOut.isSet)
            }
            return (received, !timedOut.isSet)
        }
    }
}

extension RawConnection {
    /// Sends `bytes` in pieces of the given sizes, each written and flushed on its own with a pause
    /// between, so that the server reads them apart; then reads as `exchange` does.
    public func exchange(
        _ bytes: [UInt8],
        inPieces sizes: [Int],
        pause: Duration = .microseconds(300),
        limit: Duration = .seconds(10),
        enough: @escaping @Sendable (ByteBuffer) -> Bool
    ) async throws -> ByteBuffer {
        try await self.channel.executeThenClose { inbound, outbound in
            var offset = 0
            for size in sizes where offset < bytes.count {
                let end = min(bytes.count, offset + size)
                try await outbound.write(ByteBuffer(bytes: Array(bytes[offset..<end])))
                offset = end
                try await Task.sleep(for: pause)
            }
            if offset < bytes.count { try await outbound.write(ByteBuffer(bytes: Array(bytes[offset...]))) }
            // Past the limit the connection is closed, which ends the reading below.
            let timer = Task {
                try await Task.sleep(for: limit)
                try await self.channel.channel.close()
            }
            defer { timer.cancel() }
            var received = ByteBuffer()
            do {
                for try await chunk in inbound {
                    received.writeImmutableBuffer(chunk)
                    if enough(received) { break }
                }
            } catch {
                // Closed by the timer: what arrived is the answer.
            }
            return received
        }
    }
}

/// A flag one task sets and another polls.
public final class ManagedAtomicFlag: Sendable {
    private let value = Mutex(false)

    public init() {}

    public var isSet: Bool { self.value.withLock { $0 } }

    public func set() { self.value.withLock { $0 = true } }
}

/// The frames in `buffer` (the server sends no preface).
public func frames(in buffer: ByteBuffer) throws -> [Frame] {
    var buffer = buffer
    var decoder = FrameDecoder(expectPreface: false)
    var frames: [Frame] = []
    while let frame = try decoder.nextFrame(from: &buffer) { frames.append(frame) }
    return frames
}

/// The bytes of a preface and one request frame.
public func requestBytes(callID: UInt64, method: UInt32, credential: String = "", body: some WireMessage) throws
    -> [UInt8]
{
    var header = FrameHeader.request(callID: callID, method: .ping, credential: credential)
    header.method = method
    var buffer = ByteBuffer()
    try Frame.write(header: header, message: body, into: &buffer, arena: WireArena())
    return Array(buffer.readableBytesView)
}

/// The bytes of one request frame (no preface) whose body is `body` as given, decodable or not.
public func requestBytes(callID: UInt64, method: Method, credential: String = "", rawBody body: [UInt8]) throws
    -> [UInt8]
{
    var buffer = ByteBuffer()
    let header = FrameHeader.request(callID: callID, method: method, credential: credential)
    try Frame(header: header, body: ByteBuffer(bytes: body)).write(into: &buffer, arena: WireArena())
    return Array(buffer.readableBytesView)
}
