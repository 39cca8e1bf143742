/// How a Portico server listens and what it allows each connection, each peer and the whole server.
///
/// Every limit is there for a client that tries to defeat it; docs/protocol.md (section 8) lists them
/// with the flags of `portico serve` that set them.
public struct ServerConfiguration: Sendable {
    /// The address to listen on; loopback unless told otherwise.
    public var host: String
    /// The TCP port; 0 lets the system choose (tests).
    public var port: Int
    /// The largest frame accepted or sent, length prefix included.
    public var maxFrameBytes: Int
    /// Connections open at once; more are refused with GOAWAY RESOURCE_EXHAUSTED. A connection keeps
    /// its place until the work of its calls has finished, even after it closed.
    public var maxConnections: Int
    /// Connections open at once from one peer address (an IPv6 peer by its /64); nil for an eighth of
    /// ``maxConnections``, so that one client cannot take every place.
    public var maxConnectionsPerAddress: Int?
    /// Calls in flight on one connection; more are answered RESOURCE_EXHAUSTED. A call counts until
    /// its work has really finished, even if its deadline answered it before.
    public var maxCallsInFlightPerConnection: Int
    /// Calls in flight on the whole server (writes and other work that leaves the event loop). A peer
    /// address may hold the same share of them as of the connections.
    public var maxCallsInFlight: Int
    /// Checks in one BatchCheckPermissions call.
    public var maxBatchChecks: Int
    /// A connection with no call in flight and nothing read for this long is closed.
    public var idleTimeout: Duration
    /// A connection that has not sent its first call this long after it opened is closed.
    public var firstCallTimeout: Duration
    /// Once its first byte has arrived, a frame (and the preface, from when the connection opened)
    /// must arrive whole within this time, or the connection is closed: a client sending a byte now
    /// and then cannot hold a connection.
    public var frameTimeout: Duration
    /// A connection whose client does not read its answers for this long is closed.
    public var slowClientTimeout: Duration
    /// Answers written but not yet taken by slow clients, over all connections; past it, the
    /// connections that have not read for longest are closed first.
    public var maxBufferedOutputBytes: Int
    /// Frames received in part (the rest still to arrive), over all connections; past it, the
    /// connections whose held frame began first are closed first.
    public var maxBufferedInputBytes: Int
    /// A notice repeated on one connection (or, for connection-level notices, on the server) is
    /// logged once, then at most once per this interval with the number of repeats.
    public var noticeInterval: Duration
    /// On shutdown, how long calls in flight may take to finish.
    public var shutdownGracePeriod: Duration
    /// A Watch stream's events written but not yet taken by its client's socket. While the stream
    /// catches up on history the server waits for the client; once it has caught up, a stream that
    /// would go past this ends with RESOURCE_EXHAUSTED (`WATCH_TOO_SLOW`) and the revision to resume from.
    public var watchBufferBytes: Int
    /// The kernel's send buffer of each connection (SO_SNDBUF); nil leaves the kernel's own, which
    /// grows to megabytes. A small one makes the limits on what a client leaves unread (the output
    /// budget, a Watch stream's buffer) apply after fewer bytes.
    public var socketSendBufferBytes: Int? = nil

    public init(
        host: String = "127.0.0.1",
        port: Int = 7700,
        maxFrameBytes: Int = 4 * 1024 * 1024,
        maxConnections: Int = 1024,
        maxConnectionsPerAddress: Int? = nil,
        maxCallsInFlightPerConnection: Int = 4096,
        maxCallsInFlight: Int = 16_384,
        maxBatchChecks: Int = 1000,
        idleTimeout: Duration = .seconds(300),
        firstCallTimeout: Duration = .seconds(30),
        frameTimeout: Duration = .seconds(10),
        slowClientTimeout: Duration = .seconds(30),
        maxBufferedOutputBytes: Int = 128 * 1024 * 1024,
        maxBufferedInputBytes: Int = 64 * 1024 * 1024,
        noticeInterval: Duration = .seconds(10),
        shutdownGracePeriod: Duration = .seconds(10),
        watchBufferBytes: Int = 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.maxFrameBytes = maxFrameBytes
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.maxCallsInFlightPerConnection = maxCallsInFlightPerConnection
        self.maxCallsInFlight = maxCallsInFlight
        self.maxBatchChecks = maxBatchChecks
        self.idleTimeout = idleTimeout
        self.firstCallTimeout = firstCallTimeout
        self.frameTimeout = frameTimeout
        self.slowClientTimeout = slowClientTimeout
        self.maxBufferedOutputBytes = maxBufferedOutputBytes
        self.maxBufferedInputBytes = maxBufferedInputBytes
        self.noticeInterval = noticeInterval
        self.shutdownGracePeriod = shutdownGracePeriod
        self.watchBufferBytes = watchBufferBytes
    }

    /// The per-address connection limit in force: the one configured, or an eighth of the total.
    public var connectionsPerAddressLimit: Int {
        min(self.maxConnections, self.maxConnectionsPerAddress ?? max(1, self.maxConnections / 8))
    }

    /// The calls in flight one peer address may hold: its share of the connections, of the server's calls.
    var callsInFlightPerAddressLimit: Int {
        let share = Double(self.connectionsPerAddressLimit) / Double(max(1, self.maxConnections))
        return max(self.maxCallsInFlightPerConnection, Int((Double(self.maxCallsInFlight) * share).rounded(.up)))
            .clamped(to: 1...max(1, self.maxCallsInFlight))
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
