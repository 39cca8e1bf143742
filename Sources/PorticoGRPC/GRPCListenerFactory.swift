import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PorticoServer

/// Binds the gRPC endpoint's listening socket and readies each accepted connection for grpc-swift's
/// HTTP/2 pipeline: the connection limit first, then TLS when configured.
///
/// grpc-swift-nio-transport's own Posix listener offers neither a connection limit nor a look at the
/// connections; its `Custom` transport takes a factory of our own for exactly this.
struct GRPCListenerFactory: HTTP2ServerTransport.ListenerFactory {
    let eventLoopGroup: any EventLoopGroup
    let host: String
    let port: Int
    let tls: ServerTLS?
    let connections: GRPCConnections
    let logger: Logger
    /// Told the listener's address once it is bound.
    let bound: @Sendable (NIOCore.SocketAddress) -> Void

    /// gRPC's ALPN protocols, as grpc-swift's own TLS listener offers them.
    static let applicationProtocols = ["grpc-exp", "h2"]

    func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let tls = self.tls
        let connections = self.connections
        let logger = self.logger
        let listener = try await ServerBootstrap(group: self.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { listenerConfigurator.configure(channel: $0) }
            // TCP_NODELAY is a TCP-level option: `.socketOption(.tcp_nodelay)` would set SOL_SOCKET's option of
            // the same number, SO_DEBUG, which a process without CAP_NET_ADMIN is refused on every accept.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: self.host, port: self.port) {
                (channel: any Channel) -> EventLoopFuture<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel>
                in
                guard connections.admit(channel) else {
                    logger.notice("grpc connection refused: limit reached", metadata: ["limit": "\(connections.limit)"])
                    // A failed initializer leaves the channel to us: close it, and the listener goes on.
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                }.flatMap {
                    connectionConfigurator.configure(
                        channel: channel,
                        tls: tls == nil ? .none : .configured(requireALPN: false)
                    )
                }
            }
        guard let address = listener.channel.localAddress else {
            try? await listener.channel.close()
            throw NoLocalAddress()
        }
        self.bound(address)
        return listener
    }

    struct ConnectionLimitReached: Error {}
    struct NoLocalAddress: Error {}
}
