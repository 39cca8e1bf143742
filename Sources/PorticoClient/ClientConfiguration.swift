/// Where a client connects and how it behaves.
///
/// The credential is a secret: it is sent in frame headers and never logged.
public struct ClientConfiguration: Sendable {
    /// The server's host name or address.
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The credential sent with every call that does not name its own.
    public var credential: String
    /// With a service credential: the person on whose behalf calls that do not name one are made; 0 for none.
    public var onBehalfOfPersonID: UInt64
    /// How many connections the client spreads its calls over.
    public var connections: Int
    /// How long a connection attempt may take.
    public var connectTimeout: Duration
    /// The deadline of calls that do not set their own; nil for none.
    public var defaultTimeout: Duration?
    /// The largest frame sent or accepted, length prefix included.
    public var maxFrameBytes: Int
    /// Whether a change that names no idempotency key gets one the client makes (random, 128 bits).
    public var generatesIdempotencyKeys: Bool
    /// How many times a change with an idempotency key is sent again when its answer was lost (the
    /// connection closed after it was sent); the server applies it once whatever the count.
    public var changeRetries: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 7700,
        credential: String = "",
        onBehalfOfPersonID: UInt64 = 0,
        connections: Int = 1,
        connectTimeout: Duration = .seconds(5),
        defaultTimeout: Duration? = nil,
        maxFrameBytes: Int = 4 * 1024 * 1024,
        generatesIdempotencyKeys: Bool = true,
        changeRetries: Int = 2
    ) {
        self.host = host
        self.port = port
        self.credential = credential
        self.onBehalfOfPersonID = onBehalfOfPersonID
        self.connections = max(1, connections)
        self.connectTimeout = connectTimeout
        self.defaultTimeout = defaultTimeout
        self.maxFrameBytes = maxFrameBytes
        self.generatesIdempotencyKeys = generatesIdempotencyKeys
        self.changeRetries = max(0, changeRetries)
    }
}
