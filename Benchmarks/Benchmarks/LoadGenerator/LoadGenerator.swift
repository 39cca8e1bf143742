import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import PorticoClient
import PorticoCore
import PorticoServer
import PorticoStore
import PorticoWire

/// `portico-bench`: load over TCP against a Portico server, the one at --address or one it starts.
@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portico-bench",
        abstract: "Load benchmarks of Portico over TCP: checks, tokens, batches, lookups and writes, closed or open loop.",
        subcommands: [RunCommand.self, SuiteCommand.self, PostgresCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// Where the load goes and what it is built on: options every subcommand takes.
struct TargetOptions: ParsableArguments {
    @Option(help: "A running server as host:port; by default the generator starts one in this process.")
    var address: String?

    @Option(help: "The operator key of the server at --address (or PORTICO_OPERATOR_KEY).")
    var credential: String?

    @Option(help: "The store of the server the generator starts: sqlite (durable, in a temporary directory) or memory.")
    var store: String = "sqlite"

    @Option(help: "Data set: small (10k assignments), medium (100k), large (1M), or a number of portfolios.")
    var size: String = "small"

    @Option(help: "Seed of the data set and of the request mix.")
    var seed: UInt64 = 42

    @Option(help: "Zipf exponent of principal popularity (0 is uniform).")
    var zipf: Double = 1.0

    @Option(help: "Event-loop threads of the generator.")
    var clientThreads: Int = 1

    @Option(help: "Event-loop threads of the server the generator starts (default: one per core).")
    var serverThreads: Int?

    @Flag(help: "No progress line.")
    var quiet = false
}

extension TargetOptions {
    var setup: String {
        let server = self.address.map { "the server at \($0)" }
            ?? "a server in the generator's process (\(self.store) store, \(self.serverThreads.map { "\($0) event-loop thread\($0 == 1 ? "" : "s")" } ?? "an event-loop thread per core"))"
        return "\(server); the generator on \(self.clientThreads) event-loop thread\(self.clientThreads == 1 ? "" : "s"), over loopback TCP"
    }
}

/// A server to load, with its data set built.
final class Bench: Sendable {
    let host: String
    let port: Int
    let key: String
    let dataSet: DataSet
    let group: MultiThreadedEventLoopGroup
    let quiet: Bool
    private let server: (PorticoServer, Task<Void, any Error>, String?)?
    /// A second server on the same core that keeps metrics (`compareMetrics`); only beside a server
    /// the generator started.
    let counted: (server: PorticoServer, port: Int, metrics: ServerMetrics, task: Task<Void, any Error>)?
    /// The same core over TLS and over gRPC (check-tls, grpc-check); only beside a server the
    /// generator started.
    let entrances: Entrances?

    private init(host: String, port: Int, key: String, dataSet: DataSet, group: MultiThreadedEventLoopGroup, quiet: Bool,
                 server: (PorticoServer, Task<Void, any Error>, String?)?,
                 counted: (server: PorticoServer, port: Int, metrics: ServerMetrics, task: Task<Void, any Error>)?,
                 entrances: Entrances?) {
        self.host = host
        self.port = port
        self.key = key
        self.dataSet = dataSet
        self.group = group
        self.quiet = quiet
        self.server = server
        self.counted = counted
        self.entrances = entrances
    }

    static func start(_ options: TargetOptions) async throws -> Bench {
        var logger = Logger(label: "portico-bench")
        logger.logLevel = .error
        let host: String
        let port: Int
        let key: String
        var server: (PorticoServer, Task<Void, any Error>, String?)?
        var counted: (server: PorticoServer, port: Int, metrics: ServerMetrics, task: Task<Void, any Error>)?
        var entrances: Entrances?
        if let address = options.address {
            let parts = address.split(separator: ":")
            guard parts.count == 2, let number = Int(parts[1]) else { throw ValidationError("--address is host:port") }
            host = String(parts[0])
            port = number
            guard let credential = options.credential ?? ProcessInfo.processInfo.environment["PORTICO_OPERATOR_KEY"] else {
                throw ValidationError("--credential: the operator key of the server at --address")
            }
            key = credential
        } else {
            key = OperatorKey.generate()
            let portico: Portico
            var directory: String?
            switch options.store {
            case "memory":
                portico = try await Portico.open(store: InMemoryChangeStore())
            case "sqlite":
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("portico-bench-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                directory = path
                portico = try await Portico.open(store: try SQLiteStore(directory: path))
            default:
                throw ValidationError("--store is sqlite or memory")
            }
            let serverGroup: any EventLoopGroup = options.serverThreads.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) }
                ?? MultiThreadedEventLoopGroup.singleton
            let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, maxCallsInFlightPerConnection: LoadHandler.ringSize)
            entrances = try await Entrances.start(portico: portico, key: key, configuration: configuration, logger: logger,
                                                  group: serverGroup)
            // The counting server first: the core tells its commits to the server set up last, which
            // counts nothing, so the data set's writes cost the one without metrics nothing either.
            let metrics = ServerMetrics()
            let countingServer = PorticoServer(configuration: configuration, portico: portico, operatorKey: key, logger: logger,
                                               metrics: metrics, eventLoopGroup: serverGroup)
            let started = PorticoServer(configuration: configuration, portico: portico, operatorKey: key, logger: logger,
                                        eventLoopGroup: serverGroup)
            let task = Task { try await started.run() }
            let countingTask = Task { try await countingServer.run() }
            host = "127.0.0.1"
            port = try await started.localAddress.port!
            server = (started, task, directory)
            counted = (countingServer, try await countingServer.localAddress.port!, metrics, countingTask)
        }
        let size = try DataSetSize.named(options.size)
        let setup = PorticoClient(configuration: ClientConfiguration(host: host, port: port, credential: key, connections: 4,
                                                                     defaultTimeout: .seconds(120)))
        let begin = ContinuousClock.now
        let quiet = options.quiet
        let dataSet = try await DataSet.build(setup, size: size, seed: options.seed, zipf: options.zipf) { done in
            if !quiet, done % 10 == 0 || done == size.portfolios {
                FileHandle.standardError.write(Data("\r\u{1B}[K  building the data set: \(done)/\(size.portfolios) portfolios".utf8))
            }
        }
        await setup.close()
        if !quiet { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print("data set: \(size) (seed \(options.seed), Zipf \(options.zipf)), built through the API in \(begin.duration(to: .now))")
        return Bench(host: host, port: port, key: key, dataSet: dataSet,
                     group: MultiThreadedEventLoopGroup(numberOfThreads: options.clientThreads), quiet: quiet, server: server,
                     counted: counted, entrances: entrances)
    }

    /// The calls of a workload, encoded once.
    func calls(_ workload: Workload, batch: Int = 100, writePercent: Double = 1) throws -> [PreparedCall] {
        switch workload {
        case .ping: DataSet.pingCalls()
        case .check, .checkTLS, .grpcCheck: try self.dataSet.checkCalls(1 << 16, byToken: false)
        case .checkToken: try self.dataSet.checkCalls(1 << 16, byToken: true)
        case .batch: try self.dataSet.batchCalls(1 << 10, batch: batch)
        case .lookup: try self.dataSet.lookupCalls(1 << 14)
        // The mix's checks; its writes are `writeCalls`, sent beside them (see `compare`).
        case .mix: try self.dataSet.checkCalls(1 << 16, byToken: false)
        }
    }

    /// One measurement window.
    func measure(_ workload: Workload, _ calls: [PreparedCall], connections: Int, pacing: Pacing, seconds: Double,
                 warmUp: Double = 0.5) async throws -> Measurement
    {
        let label =
            switch pacing {
            case .closed(let depth): "\(workload.rawValue) \(connections) x \(depth)"
            case .open(let rate): "\(workload.rawValue) open at \(formatCount(rate))/s"
            }
        let (tally, elapsed) = try await self.load(workload, calls, connections: connections, pacing: pacing, warmUp: warmUp,
                                                   seconds: seconds, progress: Progress(label: label, enabled: !self.quiet))
        return Measurement(workload: workload, pacing: pacing, connections: connections, tally: tally, seconds: elapsed)
    }

    /// Closed loop, `rounds` rounds of ping then each workload, back to back; throughput is the
    /// median of the rounds, latency merges them, and each workload's ratio to ping is the median of
    /// its per-round ratios (the figure least disturbed by other load on a shared machine).
    func compare(_ workloads: [Workload], connections: Int, inFlight: Int, seconds: Double, rounds: Int,
                 batch: Int = 100, writePercent: Double = 1) async throws -> [Measurement]
    {
        // The mix, TLS and gRPC are measured against check-only in the same round, so check runs before them.
        var all = [Workload.ping] + workloads.filter { $0 != .ping && !$0.comparedToCheck }
        if workloads.contains(where: \.comparedToCheck) {
            if !all.contains(.check) { all.append(.check) }
            all += workloads.filter(\.comparedToCheck)
        }
        let prepared = try all.map { try self.calls($0, batch: batch, writePercent: writePercent) }
        var perRound: [[Measurement]] = Array(repeating: [], count: all.count)
        var tallies = [ConnectionTally](repeating: ConnectionTally(), count: all.count)
        let writeCalls = all.contains(.mix) ? try self.dataSet.writeCalls(1 << 14) : []
        var writeLatency = ConnectionTally().latency
        for _ in 0..<rounds {
            for (index, workload) in all.enumerated() {
                let pacing = Pacing.closed(depth: inFlight)
                let progress = Progress(label: "\(workload.rawValue) \(connections) x \(inFlight)", enabled: !self.quiet)
                var (tally, elapsed) = (ConnectionTally(), seconds)
                if workload == .mix, let checkOnly = all.firstIndex(of: .check).flatMap({ perRound[$0].last }) {
                    // The same closed-loop checks as check-only, while a writer of its own sends durable
                    // writes at `writePercent` of all calls (open loop, so slow commits cannot slow
                    // the writer down and hide their cost).
                    let writeRate = checkOnly.callsPerSecond * writePercent / (100 - writePercent)
                    async let writes = runLoad(
                        group: self.group, host: self.host, port: self.port, credential: self.key, calls: writeCalls,
                        connections: 1, pacing: .open(perSecond: writeRate), warmUp: 0.3, seconds: seconds, progress: nil
                    )
                    (tally, elapsed) = try await runLoad(
                        group: self.group, host: self.host, port: self.port, credential: self.key, calls: prepared[index],
                        connections: connections, pacing: pacing, warmUp: 0.3, seconds: seconds, progress: progress
                    )
                    let written = try await writes.tally
                    tally.writes = written.writes
                    tally.errors += written.errors
                    tally.errorCodes.merge(written.errorCodes, uniquingKeysWith: +)
                    writeLatency.add(written.latency)
                } else {
                    (tally, elapsed) = try await self.load(workload, prepared[index], connections: connections, pacing: pacing,
                                                           warmUp: 0.3, seconds: seconds, progress: progress)
                }
                tallies[index].add(tally)
                perRound[index].append(Measurement(workload: workload, pacing: pacing, connections: connections, tally: tally, seconds: elapsed))
            }
        }
        return all.indices.map { index in
            var merged = Measurement(workload: all[index], pacing: .closed(depth: inFlight), connections: connections,
                                     tally: tallies[index], seconds: seconds * Double(rounds), rounds: rounds)
            merged.callsPerSecond = median(perRound[index].map(\.callsPerSecond))
            merged.checksPerSecond = median(perRound[index].map(\.checksPerSecond))
            merged.writesPerSecond = median(perRound[index].map(\.writesPerSecond))
            if index > 0 {
                merged.ratioToPing = median(zip(perRound[index], perRound[0]).map { $0.callsPerSecond / $1.callsPerSecond })
            }
            if all[index].comparedToCheck, let check = all.firstIndex(of: .check) {
                merged.ratioToCheckOnly = median(zip(perRound[index], perRound[check]).map { $0.checksPerSecond / $1.checksPerSecond })
            }
            if all[index] == .mix {
                merged.writeP50 = Double(writeLatency.valueAtPercentile(50)) / 1000
                merged.writeP99 = Double(writeLatency.valueAtPercentile(99)) / 1000
            }
            return merged
        }
    }

    /// One run of `workload` through the entrance it goes to: the native port in clear, over TLS, or the
    /// gRPC endpoint (closed loop only).
    private func load(_ workload: Workload, _ calls: [PreparedCall], connections: Int, pacing: Pacing, warmUp: Double,
                      seconds: Double, progress: Progress?) async throws -> (tally: ConnectionTally, seconds: Double)
    {
        guard workload == .checkTLS || workload == .grpcCheck else {
            return try await runLoad(group: self.group, host: self.host, port: self.port, credential: self.key, calls: calls,
                                     connections: connections, pacing: pacing, warmUp: warmUp, seconds: seconds, progress: progress)
        }
        guard let entrances = self.entrances else {
            throw ValidationError("\(workload.rawValue) needs a server the generator starts (without --address)")
        }
        if workload == .checkTLS {
            return try await runLoad(group: self.group, host: self.host, port: entrances.tlsPort, credential: self.key, calls: calls,
                                     connections: connections, pacing: pacing, warmUp: warmUp, seconds: seconds, progress: progress,
                                     tls: entrances.tlsContext)
        }
        guard case .closed(let depth) = pacing else { throw ValidationError("grpc-check is measured in closed loop only") }
        return try await runGRPCLoad(group: self.group, address: (self.host, entrances.grpcPort), credential: self.key, calls: calls,
                                     connections: connections, depth: depth, warmUp: warmUp, seconds: seconds, progress: progress)
    }

    /// Open loop at rising rates, as fractions of `saturation` calls per second.
    func sweep(_ workload: Workload, saturation: Double, fractions: [Double], connections: Int, seconds: Double) async throws -> [Measurement] {
        let calls = try self.calls(workload)
        var rows: [Measurement] = []
        for fraction in fractions {
            rows.append(try await self.measure(workload, calls, connections: connections, pacing: .open(perSecond: saturation * fraction),
                                               seconds: seconds))
        }
        return rows
    }

    func stop() async {
        await self.entrances?.stop()
        if let counted = self.counted {
            counted.task.cancel()
            _ = await counted.task.result
        }
        if let (_, task, directory) = self.server {
            task.cancel()
            _ = await task.result
            if let directory { try? FileManager.default.removeItem(atPath: directory) }
        }
        try? await self.group.shutdownGracefully()
    }
}

/// `portico-bench run`: one workload (or several), closed loop by default, with ping beside it.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure workloads; each closed-loop result also reads as a ratio to ping measured in the same rounds."
    )

    @OptionGroup var target: TargetOptions

    @Option(name: .customLong("workload"),
            help: "ping, check, check-token, batch, lookup, mix, check-tls or grpc-check; repeat for several.")
    var workloads: [Workload] = [.check]

    @Option(help: "Connections.") var connections: Int = 16
    @Option(help: "Calls in flight per connection (closed loop).") var inFlight: Int = 1
    @Option(help: "Open loop: a fixed total rate in calls per second instead of the closed loop.") var rate: Double?
    @Option(help: "Open loop: rise through these fractions of the closed-loop saturation rate (e.g. 0.25,0.5,0.75,1).")
    var sweep: String?
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Option(help: "Rounds (closed loop); medians are reported.") var rounds: Int = 3
    @Option(help: "Checks per call of the batch workload.") var batch: Int = 100
    @Option(help: "Percent of calls that are durable writes in the mix workload.") var writePercent: Double = 1
    @Option(help: "Write the results as JSON to this file.") var json: String?
    @Option(help: "With --sweep: write the latency-throughput chart (SVG) to this file.") var svg: String?

    func run() async throws {
        let bench = try await Bench.start(self.target)
        var rows: [Measurement] = []
        if let rate {
            for workload in self.workloads {
                rows.append(try await bench.measure(workload, try bench.calls(workload, batch: self.batch, writePercent: self.writePercent),
                                                    connections: self.connections, pacing: .open(perSecond: rate), seconds: self.seconds))
            }
        } else {
            rows = try await bench.compare(self.workloads, connections: self.connections, inFlight: self.inFlight, seconds: self.seconds,
                                           rounds: self.rounds, batch: self.batch, writePercent: self.writePercent)
            if let sweep {
                let fractions = sweep.split(separator: ",").compactMap { Double($0) }
                for workload in self.workloads {
                    let saturation = rows.first { $0.workload == workload }!.callsPerSecond
                    let points = try await bench.sweep(workload, saturation: saturation, fractions: fractions, connections: self.connections,
                                                       seconds: self.seconds)
                    rows += points
                    if let svg { try latencyChart(points, title: "\(workload.rawValue): latency against throughput").write(toFile: svg, atomically: true, encoding: .utf8) }
                }
            }
        }
        print(table(rows))
        if let json { try writeJSON(Report(machine: Machine.current(), setup: self.target.setup, dataSet: "\(bench.dataSet.size)", measurements: rows), to: json) }
        await bench.stop()
    }
}

extension Workload: ExpressibleByArgument {}

/// What a JSON file holds.
struct Report: Codable {
    var machine: Machine
    /// Where the load went: the server's store and threads, the generator's threads.
    var setup: String
    var dataSet: String
    var measurements: [Measurement]
    var reference: [RedisReference.Result] = []
    /// Check throughput with metrics on against off (the suite, against a server it started).
    var metrics: MetricsComparison?
}

func writeJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
}
