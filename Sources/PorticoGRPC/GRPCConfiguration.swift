public import PorticoServer

/// How the gRPC endpoint listens and what it allows: the native port's limits, applied to HTTP/2.
public struct GRPCConfiguration: Sendable {
    /// The address to listen on.
    public var host: String
    /// The TCP port; 0 lets the system choose (tests).
    public var port: Int
    /// TLS, or mutual TLS with client authorities; nil serves HTTP/2 in clear (h2c).
    public var tls: TLSFiles?
    /// The largest request message accepted, and answer sent (a larger answer fails its call
    /// RESOURCE_EXHAUSTED); the native port's frame size.
    public var maxMessageBytes: Int
    /// Calls (HTTP/2 streams) open at once on one connection, announced in SETTINGS; the client's
    /// HTTP/2 layer holds its calls to it, and a stream beyond it is refused.
    public var maxConcurrentStreams: Int
    /// Connections open at once; more are closed as soon as they are accepted.
    public var maxConnections: Int
    /// Writes running at once on the whole endpoint, counted until their work has finished (even once
    /// a deadline or a reset stream answered them); more are answered RESOURCE_EXHAUSTED.
    public var maxCallsInFlight: Int
    /// A connection with no call for this long is closed (HTTP/2 GOAWAY).
    public var idleTimeout: Duration
    /// On shutdown, how long calls in flight may take to finish before their connections are closed.
    public var shutdownGracePeriod: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 7701,
        tls: TLSFiles? = nil,
        maxMessageBytes: Int = 4 * 1024 * 1024,
        maxConcurrentStreams: Int = 4096,
        maxConnections: Int = 1024,
        maxCallsInFlight: Int = 16_384,
        idleTimeout: Duration = .seconds(300),
        shutdownGracePeriod: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.maxMessageBytes = maxMessageBytes
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxConnections = maxConnections
        self.maxCallsInFlight = maxCallsInFlight
        self.idleTimeout = idleTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
    }

    /// The native port's limits at another address: frame size as message size, calls in flight per
    /// connection as concurrent streams, calls in flight on the server as writes in flight, the same
    /// connections, idle timeout and grace period.
    public init(host: String, port: Int, tls: TLSFiles? = nil, limitsOf server: ServerConfiguration) {
        self.init(
            host: host,
            port: port,
            tls: tls,
            maxMessageBytes: server.maxFrameBytes,
            maxConcurrentStreams: server.maxCallsInFlightPerConnection,
            maxConnections: server.maxConnections,
            maxCallsInFlight: server.maxCallsInFlight,
            idleTimeout: server.idleTimeout,
            shutdownGracePeriod: server.shutdownGracePeriod
        )
    }
}
