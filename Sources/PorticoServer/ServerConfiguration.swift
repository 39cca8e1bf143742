/// How a Portico server listens and what it allows each connection.
public struct ServerConfiguration: Sendable {
    /// The address to listen on; loopback unless told otherwise.
    public var host: String
    /// The TCP port; 0 lets the system choose (tests).
    public var port: Int
    /// The largest frame accepted or sent, length prefix included.
    public var maxFrameBytes: Int
    /// Connections open at once; more are refused with RESOURCE_EXHAUSTED.
    public var maxConnections: Int
    /// Calls in flight on one connection; more are answered RESOURCE_EXHAUSTED.
    public var maxCallsInFlightPerConnection: Int
    /// Checks in one BatchCheckPermissions call.
    public var maxBatchChecks: Int
    /// A connection with no call in flight and nothing read for this long is closed.
    public var idleTimeout: Duration
    /// A connection whose client does not read its answers for this long is closed.
    public var slowClientTimeout: Duration
    /// On shutdown, how long calls in flight may take to finish.
    public var shutdownGracePeriod: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 7700,
        maxFrameBytes: Int = 4 * 1024 * 1024,
        maxConnections: Int = 1024,
        maxCallsInFlightPerConnection: Int = 4096,
        maxBatchChecks: Int = 1000,
        idleTimeout: Duration = .seconds(300),
        slowClientTimeout: Duration = .seconds(30),
        shutdownGracePeriod: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.maxFrameBytes = maxFrameBytes
        self.maxConnections = maxConnections
        self.maxCallsInFlightPerConnection = maxCallsInFlightPerConnection
        self.maxBatchChecks = maxBatchChecks
        self.idleTimeout = idleTimeout
        self.slowClientTimeout = slowClientTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
    }
}
