import NIOCore
import PorticoWire
import Synchronization

/// The open connections of a server: counted for the connection limit, told when the server shuts down.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    var count: Int { self.channels.withLock { $0.count } }

    /// Adds `channel` unless `limit` connections are open; it leaves the registry when it closes.
    func register(_ channel: any Channel, limit: Int) -> Bool {
        let id = ObjectIdentifier(channel)
        let added = self.channels.withLock { channels -> Bool in
            guard channels.count < limit else { return false }
            channels[id] = channel
            return true
        }
        if added {
            channel.closeFuture.whenComplete { _ in
                _ = self.channels.withLock { $0.removeValue(forKey: id) }
            }
        }
        return added
    }

    /// Tells every connection that the server is shutting down (each sends GOAWAY and drains).
    func announceShutdown() {
        for channel in self.channels.withLock({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
        }
    }

    /// Closes every connection at once.
    func closeAll() {
        for channel in self.channels.withLock({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }
}

/// Answers a connection over the limit with GOAWAY RESOURCE_EXHAUSTED and closes it.
final class RefuseConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func channelActive(context: ChannelHandlerContext) {
        var responder = Responder(buffer: context.channel.allocator.buffer(capacity: 128), arena: .init(), maxFrameBytes: 1 << 16)
        responder.goAway(lastCallID: 0, status: .resourceExhausted, message: "the server has \(self.limit) connections open")
        // The channel, not the context, crosses into the @Sendable callback: a Channel is Sendable.
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(responder.buffer)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

@available(*, unavailable)
extension RefuseConnectionHandler: Sendable {}
