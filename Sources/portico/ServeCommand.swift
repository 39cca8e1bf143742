import ArgumentParser
import Foundation
import Logging
import PorticoCore
import PorticoServer
import PorticoStore
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `portico serve`: runs the server until SIGTERM or SIGINT, then shuts down gracefully.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Portico server.",
        discussion: """
            The operator key is read from --operator-key or PORTICO_OPERATOR_KEY, or else from
            DATA_DIR/operator.key, which is generated (mode 0600) at the first start.

            Changes are kept in DATA_DIR/portico.sqlite (--store sqlite, the default): the server loads
            them at start-up and acknowledges a change only once it is on disk. --store memory keeps them
            in memory only, for tests and demos.

            The server listens at once ("portico: listening on ...") and answers every call UNAVAILABLE \
            (reason LOADING) while it reads the store, then prints "portico: ready". The limits below are \
            listed with their defaults in docs/protocol.md, section 8.
            """
    )

    @Option(help: "The address to listen on (env PORTICO_HOST).")
    var host: String = ProcessInfo.processInfo.environment["PORTICO_HOST"] ?? "127.0.0.1"

    @Option(help: "The TCP port (env PORTICO_PORT).")
    var port: Int = Int(ProcessInfo.processInfo.environment["PORTICO_PORT"] ?? "") ?? 7700

    @Option(name: .customLong("data-dir"), help: "Where the server keeps its files (env PORTICO_DATA_DIR).")
    var dataDirectory: String = ProcessInfo.processInfo.environment["PORTICO_DATA_DIR"] ?? "./data"

    @Option(help: "The operator key, instead of DATA_DIR/operator.key (env PORTICO_OPERATOR_KEY).")
    var operatorKey: String? = ProcessInfo.processInfo.environment["PORTICO_OPERATOR_KEY"]

    @Option(help: "Where changes are kept: sqlite (DATA_DIR/portico.sqlite, durable) or memory (lost at exit).")
    var store: StoreKind = .sqlite

    @Option(help: "The largest frame accepted, in bytes.")
    var maxFrameBytes: Int = ServerConfiguration().maxFrameBytes

    @Option(help: "Connections open at once.")
    var maxConnections: Int = ServerConfiguration().maxConnections

    @Option(help: """
        Connections open at once from one address (an IPv6 address by its /64); default: an eighth of \
        --max-connections.
        """)
    var maxConnectionsPerAddress: Int?

    @Option(help: "Calls in flight per connection, counted until their work has finished.")
    var maxCallsInFlight: Int = ServerConfiguration().maxCallsInFlightPerConnection

    @Option(help: """
        Calls in flight on the whole server (writes); one address may hold the same share of them as of \
        connections.
        """)
    var maxServerCallsInFlight: Int = ServerConfiguration().maxCallsInFlight

    @Option(help: "Seconds before an idle connection is closed.")
    var idleTimeout: Int = 300

    @Option(help: "Seconds a new connection has to send its first call before it is closed.")
    var firstCallTimeout: Int = 30

    @Option(help: "Seconds a frame (and the preface) has to arrive whole once it has begun.")
    var frameTimeout: Int = 10

    @Option(help: """
        Bytes of answers held for clients that do not read, over all connections; past it the connections \
        stalled longest are closed.
        """)
    var maxBufferedOutput: Int = ServerConfiguration().maxBufferedOutputBytes

    @Option(help: "Seconds a client may leave its answers unread before its connection is closed.")
    var slowClientTimeout: Int = 30

    @Option(help: "Seconds calls in flight get to finish at shutdown.")
    var shutdownGrace: Int = 10

    @Option(help: "Event-loop threads serving connections (default: one per core). On a machine shared with a load generator, fewer can serve more.")
    var threads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env PORTICO_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["PORTICO_LOG_LEVEL"] ?? "info"

    enum StoreKind: String, ExpressibleByArgument, CaseIterable {
        case sqlite
        case memory
    }

    func validate() throws {
        guard (0...65535).contains(self.port) else { throw ValidationError("--port must be 0 to 65535") }
        guard self.maxFrameBytes >= 1024 else { throw ValidationError("--max-frame-bytes must be at least 1024") }
        guard self.maxConnections > 0, self.maxCallsInFlight > 0, self.maxServerCallsInFlight > 0,
              (self.maxConnectionsPerAddress ?? 1) > 0
        else {
            throw ValidationError(
                "--max-connections, --max-connections-per-address and the --max-*calls-in-flight limits must be positive"
            )
        }
        guard self.frameTimeout > 0, self.firstCallTimeout > 0, self.idleTimeout > 0, self.maxBufferedOutput > 0 else {
            throw ValidationError("timeouts and --max-buffered-output must be positive")
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else { throw ValidationError("unknown --log-level \(self.logLevel)") }
    }

    func run() async throws {
        var logger = Logger(label: "portico")
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        // Every connection is a file: the soft limit (often 1,024) would stop the server before its
        // own connection limit; the server lowers that limit, with a warning, if the hard one is low.
        FileDescriptorLimit.raiseToHardLimit()

        let key: String
        let keyLocation: String
        if let given = self.operatorKey, !given.isEmpty {
            guard given.hasPrefix(OperatorKey.prefix), given.count >= 36 else {
                throw ValidationError("the operator key must start with \(OperatorKey.prefix) and hold at least 32 characters")
            }
            key = given
            keyLocation = "given by flag or PORTICO_OPERATOR_KEY"
        } else {
            let file = try OperatorKeyFile(dataDirectory: self.dataDirectory)
            key = try file.loadOrCreate()
            keyLocation = file.path
        }

        // The store is opened before listening (a missing or locked store fails at once), but its log is
        // read after: the server listens and answers LOADING meanwhile, then serves.
        let durable: SQLiteStore?
        let store: any ChangeStore
        switch self.store {
        case .memory:
            durable = nil
            store = InMemoryChangeStore()
        case .sqlite:
            do {
                durable = try SQLiteStore(directory: self.dataDirectory)
            } catch let error as StoreError {
                throw ValidationError("cannot open the store: \(error)")
            }
            store = durable!
        }
        let loaded = Mutex<(revision: UInt64, took: Duration)?>(nil)
        let server = PorticoServer(
            configuration: self.serverConfiguration,
            operatorKey: key,
            logger: logger,
            eventLoopGroup: self.threads.map { MultiThreadedEventLoopGroup(numberOfThreads: max(1, $0)) }
                ?? MultiThreadedEventLoopGroup.singleton
        ) {
            let started = ContinuousClock.now
            let portico = try await Portico.open(store: store)
            loaded.withLock { $0 = (portico.snapshot.revision, ContinuousClock.now - started) }
            return portico
        }
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        async let running: Void = group.run()
        do {
            let address = try await server.localAddress
            say("portico: listening on \(address.ipAddress ?? self.host):\(address.port ?? self.port)")
            say("portico: operator key: \(keyLocation)")
            do {
                try await server.waitUntilReady()
                let (revision, took) = loaded.withLock { $0 } ?? (0, .zero)
                if let durable {
                    say("portico: store: sqlite \(durable.path), revision \(revision), loaded in \(took)")
                } else {
                    say("portico: store: memory (changes are lost when the server stops)")
                }
                say("portico: ready")
            } catch {
                say("portico: not serving: \(error)")
            }
        } catch {
            say("portico: cannot listen on \(self.host):\(self.port): \(error)")
        }
        do {
            try await running
        } catch {
            await durable?.close()
            throw error
        }
        await durable?.close()
    }

    /// The server's limits, from the flags.
    var serverConfiguration: ServerConfiguration {
        ServerConfiguration(
            host: self.host,
            port: self.port,
            maxFrameBytes: self.maxFrameBytes,
            maxConnections: self.maxConnections,
            maxConnectionsPerAddress: self.maxConnectionsPerAddress,
            maxCallsInFlightPerConnection: self.maxCallsInFlight,
            maxCallsInFlight: self.maxServerCallsInFlight,
            idleTimeout: .seconds(self.idleTimeout),
            firstCallTimeout: .seconds(self.firstCallTimeout),
            frameTimeout: .seconds(self.frameTimeout),
            slowClientTimeout: .seconds(self.slowClientTimeout),
            maxBufferedOutputBytes: self.maxBufferedOutput,
            shutdownGracePeriod: .seconds(self.shutdownGrace)
        )
    }
}

/// The operator key in the data directory: created once, readable by its owner only.
struct OperatorKeyFile {
    let path: String

    init(dataDirectory: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.path = (dataDirectory as NSString).appendingPathComponent("operator.key")
    }

    /// The key in the file, or a new one written there (mode 0600) when there is none.
    func loadOrCreate() throws -> String {
        if let existing = try? String(contentsOfFile: self.path, encoding: .utf8) {
            let key = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            guard key.hasPrefix(OperatorKey.prefix) else {
                throw ValidationError("\(self.path) does not hold an operator key")
            }
            return key
        }
        let key = OperatorKey.generate()
        guard FileManager.default.createFile(atPath: self.path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(self.path)")
        }
        return key
    }

    /// The key in the file, if there is one.
    func load() -> String? {
        (try? String(contentsOfFile: self.path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Writes a line to standard output at once: unbuffered, so that a supervisor or a test reading the
/// pipe learns where the server listens.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
