import ArgumentParser
import Foundation
import Logging
import PorticoClient
import PorticoCore
import PorticoServer
import PorticoStore
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `portico serve`: runs the server until SIGTERM or SIGINT, then shuts down gracefully.
///
/// Flags that have an environment variable are optional here and resolved in `validate()` (flag, then
/// variable, then default), so that a malformed variable is refused like a malformed flag.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Portico server.",
        discussion: """
            The operator key is read from --operator-key or PORTICO_OPERATOR_KEY, or else from \
            DATA_DIR/operator.key, which is generated (mode 0600) at the first start.

            Changes are kept in DATA_DIR/portico.sqlite (--store sqlite, the default): the server \
            acknowledges a change only once it is on disk. It writes a checkpoint of the whole state now \
            and then (--checkpoint-every, --checkpoint-interval) and at a clean shutdown; start-up loads \
            the newest checkpoint and replays only the changes after it. --store memory keeps changes in \
            memory only, for tests and demos. The server holds DATA_DIR for as long as it runs: a second \
            server or an import into the same directory fails at once, naming the holder's pid.

            The server listens at once ("portico: listening on ...") and answers every call UNAVAILABLE \
            (reason LOADING) while it reads the store; then it prints the line `portico: ready` on standard \
            output (`portico wait-ready` waits for the same moment from another shell). SIGTERM or SIGINT \
            (Ctrl-C) stops it gracefully. The limits below are listed with their defaults in \
            docs/protocol.md, section 8.

            ENVIRONMENT (a flag given on the command line wins)
            \(PorticoEnvironment.helpLines(PorticoEnvironment.server))

            EXIT STATUS
              0   stopped by SIGTERM or SIGINT
              1   could not start, or failed while serving (port in use, unreadable
                  data directory...), said in one line on standard error
              64  usage error: a bad flag or environment variable
            """
    )

    @Option(name: .customLong("host"), help: ArgumentHelp(
        "The address to listen on. Default: PORTICO_HOST, else 127.0.0.1.", valueName: "address"))
    var hostFlag: String?
    var host: String { self.hostFlag ?? "127.0.0.1" }

    @Option(name: .customLong("port"), help: ArgumentHelp(
        "The TCP port; 0 picks a free one. Default: PORTICO_PORT, else 7700.", valueName: "port"))
    var portFlag: Int?
    var port: Int { self.portFlag ?? 7700 }

    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "Where the server keeps its files. Default: PORTICO_DATA_DIR, else ./data.", valueName: "directory"))
    var dataDirectoryFlag: String?
    var dataDirectory: String { self.dataDirectoryFlag ?? "./data" }

    @Option(help: ArgumentHelp(
        "The operator key (pok_...), instead of DATA_DIR/operator.key. Default: PORTICO_OPERATOR_KEY.",
        valueName: "key"))
    var operatorKey: String?

    @Option(help: "Where changes are kept: sqlite (DATA_DIR/portico.sqlite, durable) or memory (lost at exit).")
    var store: StoreKind = .sqlite

    @OptionGroup(title: "Storage")
    var storage: StorageOptions

    @OptionGroup(title: "Idempotency keys and expiring assignments")
    var access: AccessOptions

    @Option(help: "The largest frame accepted, in bytes (at least 1024).")
    var maxFrameBytes: Int = ServerConfiguration().maxFrameBytes

    @Option(help: "Connections open at once.")
    var maxConnections: Int = ServerConfiguration().maxConnections

    @Option(help: """
        Connections open at once from one address (an IPv6 address by its /64); default: an eighth of \
        --max-connections.
        """)
    var maxConnectionsPerAddress: Int?

    @Option(help: "Calls in flight per connection, counted until their work has finished; GetServerInfo announces it.")
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

    @Option(help: """
        Event-loop threads serving connections (default: one per core). On a machine shared with a load \
        generator, fewer can serve more.
        """)
    var threads: Int?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "trace, debug, info, notice, warning, error or critical. Default: PORTICO_LOG_LEVEL, else info.",
        valueName: "level"))
    var logLevelFlag: String?
    var logLevel: String { self.logLevelFlag ?? "info" }

    @Option(name: .customLong("log-format"), help: ArgumentHelp(
        "text, or json (one object per line). Default: PORTICO_LOG_FORMAT, else text.", valueName: "format"))
    var logFormatFlag: LogFormat?
    var logFormat: LogFormat { self.logFormatFlag ?? .text }

    @Option(name: .customLong("metrics-address"), help: ArgumentHelp(
        "Serve /metrics (Prometheus), /healthz and /readyz over HTTP at HOST:PORT; off unless given "
            + "(docs/operations.md). Default: PORTICO_METRICS_ADDRESS.", valueName: "host:port"))
    var metricsAddress: String?

    enum StoreKind: String, ExpressibleByArgument, CaseIterable {
        case sqlite
        case memory
    }

    mutating func validate() throws {
        self.hostFlag = try self.hostFlag ?? PorticoEnvironment.string("PORTICO_HOST")
        self.portFlag = try self.portFlag ?? PorticoEnvironment.port("PORTICO_PORT")
        self.dataDirectoryFlag = try self.dataDirectoryFlag ?? PorticoEnvironment.string("PORTICO_DATA_DIR")
        self.operatorKey = try self.operatorKey ?? PorticoEnvironment.string("PORTICO_OPERATOR_KEY")
        self.logLevelFlag = try self.logLevelFlag ?? PorticoEnvironment.string("PORTICO_LOG_LEVEL")
        if self.logFormatFlag == nil, let format = try PorticoEnvironment.string("PORTICO_LOG_FORMAT") {
            guard let known = LogFormat(rawValue: format) else {
                throw ValidationError("PORTICO_LOG_FORMAT=\(format) is not a log format: use text or json")
            }
            self.logFormatFlag = known
        }
        self.metricsAddress = try self.metricsAddress ?? PorticoEnvironment.string("PORTICO_METRICS_ADDRESS")
        if let address = self.metricsAddress { _ = try Self.metricsListener(address) }

        guard !self.host.isEmpty else { throw ValidationError("--host must not be empty") }
        guard (0...65535).contains(self.port) else {
            throw ValidationError("--port must be 0 to 65535, not \(self.port)")
        }
        guard !self.dataDirectory.isEmpty else { throw ValidationError("--data-dir must not be empty") }
        if let key = self.operatorKey {
            guard key.hasPrefix(OperatorKey.prefix), key.count >= 36 else {
                throw ValidationError(
                    "the operator key (--operator-key or PORTICO_OPERATOR_KEY) must start with \(OperatorKey.prefix) "
                        + "and hold at least 32 characters after it")
            }
        }
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
        guard self.idleTimeout > 0, self.slowClientTimeout > 0, self.shutdownGrace >= 0 else {
            throw ValidationError(
                "--idle-timeout and --slow-client-timeout must be positive, --shutdown-grace not negative")
        }
        if let threads = self.threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError(
                "unknown log level '\(self.logLevel)': use trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        let logger = self.makeLogger()
        let operations = try self.operations(logger: logger)
        // Every connection is a file: the soft limit (often 1,024) would stop the server before its
        // own connection limit; the server lowers that limit, with a warning, if the hard one is low.
        FileDescriptorLimit.raiseToHardLimit()

        // The data directory is held (an exclusive lock, for the life of the process) before anything
        // in it is read or written; with --store memory and a given key, nothing there is used.
        let givenKey = self.operatorKey
        var directory: DataDirectory?
        if self.store == .sqlite || givenKey == nil {
            do {
                directory = try DataDirectory(path: self.dataDirectory)
            } catch let error as StoreError {
                throw ValidationError("cannot use the data directory: \(error)")
            }
            for warning in directory?.warnings ?? [] { logger.warning("\(warning)") }
        }

        let key: String
        let keyLocation: String
        if let given = givenKey {
            // validate() has checked its shape.
            key = given
            keyLocation = "given by flag or PORTICO_OPERATOR_KEY"
        } else {
            let file = OperatorKeyFile(path: directory!.file("operator.key"))
            key = try file.loadOrCreate { warning in logger.warning("\(warning)") }
            keyLocation = file.path
        }

        // The store is opened before listening (a missing or locked store fails at once), but its log is
        // read after: the server listens and answers LOADING meanwhile, then serves.
        let report: @Sendable (String) -> Void = { [logger] line in logger.info("\(line)") }
        let durable: SQLiteStore?
        let store: any ChangeStore
        switch self.store {
        case .memory:
            durable = nil
            store = InMemoryChangeStore()
        case .sqlite:
            let sqlite: SQLiteStore
            do {
                sqlite = try SQLiteStore(dataDirectory: directory!, keepCheckpoints: self.storage.keepCheckpoints,
                                         report: report)
            } catch let error as StoreError {
                throw ValidationError("cannot open the store: \(error)")
            }
            durable = sqlite
            store = sqlite
        }
        let loaded = Mutex<(portico: Portico, took: Duration)?>(nil)
        let server = PorticoServer(
            configuration: self.serverConfiguration,
            operatorKey: key,
            logger: logger,
            metrics: operations?.0,
            eventLoopGroup: self.threads.map { MultiThreadedEventLoopGroup(numberOfThreads: max(1, $0)) }
                ?? MultiThreadedEventLoopGroup.singleton
        ) {
            let started = ContinuousClock.now
            let replaying = ProgressMeter("replaying the log", report: report)
            let portico = try await Portico.open(
                store: store, idempotency: self.access.idempotency, progress: replaying.update)
            loaded.withLock { $0 = (portico, ContinuousClock.now - started) }
            return portico
        }
        // The endpoint first: a group shuts its services down in reverse order, so /readyz answers 503
        // while the server drains.
        let endpoint = operations.map { $0.1(server) }
        let group = ServiceGroup(
            configuration: .init(
                services: (endpoint.map { [$0] as [any Service] } ?? []) + [server],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        async let running: Void = group.run()
        // Checkpoints are written once the core has loaded, in the background, and once more at a clean
        // shutdown.
        var checkpointer: Checkpointer?
        var checkpointing: Task<Void, Never>?
        var sweeping: Task<Void, Never>?
        do {
            let address = try await server.localAddress
            say("portico: listening on \(address.ipAddress ?? self.host):\(address.port ?? self.port)")
            say("portico: operator key: \(keyLocation)")
            if let endpoint { try await Self.announce(endpoint) }
            do {
                try await server.waitUntilReady()
                if let (portico, took) = loaded.withLock({ $0 }), let durable {
                    say("portico: store: sqlite \(durable.path), revision \(portico.snapshot.revision), loaded in \(took)")
                    let started = Checkpointer(store: durable, portico: portico, policy: self.storage.policy) {
                        [logger] in logger.info("\($0)")
                    }
                    checkpointer = started
                    checkpointing = Task { await started.run() }
                } else {
                    say("portico: store: memory (changes are lost when the server stops)")
                }
                if let (portico, _) = loaded.withLock({ $0 }) {
                    let sweeper = ExpirySweeper(
                        portico: portico, interval: .seconds(self.access.expirySweepInterval)
                    ) { [logger] in logger.info("\($0)") }
                    sweeping = Task { await sweeper.run() }
                }
                say("portico: ready")
            } catch {
                say("portico: not serving: \(error)")
            }
        } catch let failure as CommandFailure {
            await durable?.close()
            throw failure
        } catch {
            await durable?.close()
            throw CommandFailure("cannot listen on \(self.host):\(self.port): \(NetworkErrorText.describe(error))")
        }
        do {
            try await running
        } catch {
            sweeping?.cancel()
            checkpointing?.cancel()
            await durable?.close()
            directory?.release()
            throw error
        }
        // A clean shutdown: no more sweeps, a last checkpoint, so that the next start replays nothing.
        sweeping?.cancel()
        await sweeping?.value
        checkpointing?.cancel()
        await checkpointing?.value
        await checkpointer?.checkpointNow()
        await durable?.close()
        directory?.release()
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

    /// The key file inside `dataDirectory`, which must exist (the server holds it as a `DataDirectory`).
    init(path: String) {
        self.path = path
    }

    /// The key in the file, or a new one written there when there is none: created with O_EXCL and
    /// mode 0600, so that it is never readable by others, not even for a moment. An existing file that
    /// others could read is narrowed to 0600, and `warn` is told: the key may have been read already.
    func loadOrCreate(warn: (String) -> Void = { _ in }) throws -> String {
        if let existing = try? String(contentsOfFile: self.path, encoding: .utf8) {
            let key = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            guard key.hasPrefix(OperatorKey.prefix) else {
                throw ValidationError("\(self.path) does not hold an operator key")
            }
            if PrivateFile.restrict(self.path) {
                warn(
                    "\(self.path) was readable by other users and is now 0600; anyone who read it holds the "
                        + "operator key: to change it, stop the server, delete the file and start again")
            }
            return key
        }
        let key = OperatorKey.generate()
        do {
            try PrivateFile.create(self.path, bytes: Array((key + "\n").utf8))
            try PrivateFile.syncDirectory((self.path as NSString).deletingLastPathComponent)
        } catch {
            throw ValidationError("cannot write the operator key: \(error)")
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
