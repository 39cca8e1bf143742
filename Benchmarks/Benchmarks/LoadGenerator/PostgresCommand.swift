import ArgumentParser
import Foundation
import NIOPosix
import PorticoClient
import PorticoServer
import PorticoTestSupport

/// `portico-bench postgres` (`make bench-pg`): Portico on a shared PostgreSQL log, measured in one run.
///
/// It starts a PostgreSQL of its own (as the tests do: a temporary directory, a free port, the user
/// nobody when run as root; here with fsync on, since the writes are to be durable) and three
/// `portico serve` processes from a release binary: one on SQLite, two (A and B) on the PostgreSQL log.
/// Each round then measures, back to back: durable writes per second through SQLite and through
/// PostgreSQL at 1 and N clients (and N over both nodes), the replication lag from A to B, and checks
/// per second on one node against two nodes at once with the same connections in all. Ratios are taken
/// within each round and their medians reported, which the shared machine's load disturbs the least.
struct PostgresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract:
            "Portico nodes on one PostgreSQL: durable writes/s against SQLite, replication lag, checks on two nodes."
    )

    @Option(help: "The portico binary the nodes run (a release build of this checkout).")
    var portico = ".build-bench/release/portico"
    @Option(help: "Data set: small (10k assignments), medium (100k), large (1M), or a number of portfolios.")
    var size = "small"
    @Option(help: "Seed of the data set and of the request mix.") var seed: UInt64 = 42
    @Option(help: "Zipf exponent of principal popularity (0 is uniform).") var zipf = 1.0
    @Option(help: "Rounds; medians are reported.") var rounds = 5
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @Option(help: "Concurrent writers (one call in flight each) of the many-clients write figures.") var writers = 64
    @Option(help: "Replication-lag samples per round (sequential writes on A, each awaited on B).")
    var lagSamples = 200
    @Option(help: "Connections of the check figures, in all (split between the nodes for two).")
    var connections = 16
    @Option(help: "Checks in flight per connection.") var inFlight = 16
    @Option(help: "Event-loop threads of each node (portico serve --threads).") var nodeThreads = 1
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Flag(help: "No progress line.") var quiet = false

    func validate() throws {
        guard self.rounds > 0, self.seconds > 0, self.writers > 0, self.lagSamples > 0, self.connections > 1,
            self.inFlight > 0, self.nodeThreads > 0
        else {
            throw ValidationError(
                "--rounds, --seconds, --writers, --lag-samples, --in-flight and --node-threads must "
                    + "be positive, --connections at least 2")
        }
    }

    func run() async throws {
        let machine = Machine.current()
        print("machine: \(machine.cpu), \(machine.cores) cores; load average \(machine.loadAverage)")
        let cluster = try await Cluster.start(self.settings)
        defer { cluster.stop() }
        var writes = WriteFigures(writers: self.writers)
        var checks = CheckFigures(connections: self.connections, inFlight: self.inFlight)
        var lag = LagSamples()
        for round in 0..<self.rounds {
            // The order within a round flips every other round, so that neither side always goes first.
            let flipped = round % 2 == 1
            try await cluster.measureWrites(into: &writes, flipped: flipped)
            try await cluster.measureLag(into: &lag, samples: self.lagSamples)
            try await cluster.measureChecks(into: &checks, flipped: flipped)
            print(
                "round \(round + 1)/\(self.rounds): \(writes.summary(round)); lag p50 so far "
                    + "\(formatMicros(micros(lag.lag, 50))); \(checks.summary(round))")
        }
        let (logBytes, logRows) = try cluster.logSize()
        let (joinSeconds, joinRevision) = try await cluster.measureJoin()
        let report = PostgresReport(
            machine: machine,
            loadAverageAfter: Machine.current().loadAverage,
            setup: cluster.setup,
            dataSet: "\(cluster.size)",
            writes: writes.figures, writeRatios: writes.ratios,
            lag: lag.figure, checks: checks.figures, checkRatios: checks.ratios,
            logChanges: logRows, logBytesPerChange: Double(logBytes) / Double(max(logRows, 1)),
            joinSeconds: joinSeconds, joinRevision: joinRevision)
        print("\n" + report.text)
        if let json { try writeJSON(report, to: json) }
    }
}

/// What `Cluster` needs of the command's options, as a value it can share.
struct PostgresSettings: Sendable {
    var portico: String
    var size: String
    var seed: UInt64
    var zipf: Double
    var seconds: Double
    var writers: Int
    var connections: Int
    var inFlight: Int
    var nodeThreads: Int
    var quiet: Bool
}

extension PostgresCommand {
    var settings: PostgresSettings {
        PostgresSettings(
            portico: self.portico, size: self.size, seed: self.seed, zipf: self.zipf, seconds: self.seconds,
            writers: self.writers, connections: self.connections, inFlight: self.inFlight,
            nodeThreads: self.nodeThreads, quiet: self.quiet)
    }
}

/// The PostgreSQL server, the three nodes and their data sets, and the generator's event loop.
final class Cluster: Sendable {
    let postgres: PostgresServer
    let sqlite: NodeProcess
    let a: NodeProcess
    let b: NodeProcess
    let key: String
    let size: DataSetSize
    /// The SQLite node's data set, and the PostgreSQL nodes' (built through A; B has the same ids).
    let sqliteSet: DataSet
    let sharedSet: DataSet
    let group: MultiThreadedEventLoopGroup
    let options: PostgresSettings
    let directory: String
    /// The log's database on `postgres`.
    let database: String

    private init(
        postgres: PostgresServer, database: String, nodes: [NodeProcess], key: String, size: DataSetSize,
        sets: [DataSet], options: PostgresSettings, directory: String
    ) {
        self.postgres = postgres
        self.database = database
        (self.sqlite, self.a, self.b) = (nodes[0], nodes[1], nodes[2])
        self.key = key
        self.size = size
        (self.sqliteSet, self.sharedSet) = (sets[0], sets[1])
        // One event loop for the generator, as `make bench` has it: the rest of the machine is the nodes'.
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.options = options
        self.directory = directory
    }

    var setup: String {
        "portico serve nodes (\(self.options.portico), --threads \(self.options.nodeThreads) each): one on SQLite, "
            + "two on one PostgreSQL (fsync on) started by the benchmark; the generator on one event-loop thread, "
            + "over loopback TCP"
    }

    static func start(_ options: PostgresSettings) async throws -> Cluster {
        let size = try DataSetSize.named(options.size)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("portico-pg-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let postgres = try PostgresServer.start(fsync: true)
        let url = try postgres.createDatabase("bench")
        print("PostgreSQL on 127.0.0.1:\(postgres.port) (fsync on), in \(postgres.directory)")
        let key = OperatorKey.generate()
        var nodes: [NodeProcess] = []
        do {
            for (name, store) in [
                ("sqlite", ["--store", "sqlite"]), ("a", ["--store", "postgres", "--postgres-url", url]),
                ("b", ["--store", "postgres", "--postgres-url", url]),
            ] {
                // A and B one after the other: the first creates the log's tables.
                nodes.append(
                    try await NodeProcess.start(
                        name: name, binary: options.portico,
                        arguments: Self.arguments(
                            options, key: key, store: store, dataDirectory: "\(directory)/\(name)-data"),
                        directory: directory, key: key))
                print("node \(name) on 127.0.0.1:\(nodes.last!.port) (pid \(nodes.last!.pid), log \(nodes.last!.log))")
            }
            let begin = ContinuousClock.now
            let (sqliteNode, nodeA) = (nodes[0], nodes[1])
            async let onSQLite = Self.build(on: sqliteNode, key: key, size: size, options: options)
            async let onShared = Self.build(on: nodeA, key: key, size: size, options: options)
            let sets = try await [onSQLite, onShared]
            let head = try await nodes[1].revision(key: key)
            try await Self.wait(nodes[2], reaches: head, key: key)
            print(
                "data set: \(size), built through the API on the SQLite node and on A in \(begin.duration(to: .now)); "
                    + "B followed to revision \(head)")
            let database = String(url.split(separator: "/").last!.split(separator: "?")[0])
            return Cluster(
                postgres: postgres, database: database, nodes: nodes, key: key, size: size, sets: sets,
                options: options,
                directory: directory)
        } catch {
            for node in nodes { node.stop() }
            try? postgres.stop(mode: "immediate")
            throw error
        }
    }

    /// The flags of `portico serve` for a node of the benchmark (the port is added by `NodeProcess`).
    static func arguments(_ options: PostgresSettings, key: String, store: [String], dataDirectory: String) -> [String]
    {
        [
            "--threads", "\(options.nodeThreads)", "--operator-key", key, "--log-level", "error", "--data-dir",
            dataDirectory,
        ]
            + store
    }

    private static func build(on node: NodeProcess, key: String, size: DataSetSize, options: PostgresSettings)
        async throws -> DataSet
    {
        let client = node.client(key: key, connections: 4)
        defer { Task { await client.close() } }
        return try await DataSet.build(client, size: size, seed: options.seed, zipf: options.zipf) { _ in }
    }

    /// Polls `node`'s GetServerInfo until it has applied `revision` (at most 60 s).
    static func wait(_ node: NodeProcess, reaches revision: UInt64, key: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await node.revision(key: key) < revision {
            guard ContinuousClock.now < deadline else {
                throw NodeProcess.Failed(description: "node \(node.name) did not reach revision \(revision) in 60 s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The log table's size on disk (rows, TOAST and the primary key's index) and its number of rows.
    func logSize() throws -> (bytes: Int, rows: Int) {
        let answer = try self.postgres.sql(
            "SELECT pg_total_relation_size('portico_changes') || ' ' || count(*) FROM portico_changes",
            database: self.database)
        let numbers = answer.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard numbers.count == 2 else { throw NodeProcess.Failed(description: "the log's size: psql said \(answer)") }
        return (numbers[0], numbers[1])
    }

    /// A third node joining with an empty data directory: the time from its start to its first answer
    /// (it has read and replayed the whole log from PostgreSQL), and the revision it then holds.
    func measureJoin() async throws -> (Double, UInt64) {
        let begin = ContinuousClock.now
        let joined = try await NodeProcess.start(
            name: "c", binary: self.options.portico,
            arguments: Self.arguments(
                self.options, key: self.key,
                store: ["--store", "postgres", "--postgres-url", self.postgres.url(database: self.database)],
                dataDirectory: "\(self.directory)/c-data"),
            directory: self.directory, key: self.key)
        let took = begin.duration(to: .now)
        defer { joined.stop() }
        return (
            Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18,
            try await joined.revision(key: self.key)
        )
    }

    /// Stops the nodes, then PostgreSQL (its supervisor removes the directory), and removes the nodes' files.
    func stop() {
        for node in [self.sqlite, self.a, self.b] { node.stop() }
        do {
            try self.postgres.stop()
        } catch {
            print("stopping PostgreSQL: \(error)")
        }
        try? self.group.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
