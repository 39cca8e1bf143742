import ArgumentParser
import Foundation
import Logging
import PorticoClient
import PorticoCore
import PorticoServer
import PorticoWire
import Synchronization

/// `portico-bench`: closed-loop load of check and ping RPCs over loopback, reported as throughput and
/// as the ratio of check to ping measured in the same run (the transport's baseline on this machine).
@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portico-bench",
        abstract: "Closed-loop check and ping load over TCP; prints throughput and the check/ping ratio."
    )

    @Option(help: "A running server as host:port; by default a server is started in this process.")
    var address: String?

    @Option(help: "The operator key of the server at --address.")
    var credential: String?

    @Option(help: "Connections.") var connections: Int = 4
    @Option(help: "Calls in flight per connection.") var inFlight: Int = 16
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Option(help: "Rounds; each measures ping then check, and the medians are reported.") var rounds: Int = 3
    @Option(help: "Portfolios in the data set (each: an admin, 20 employees, 20 assets).") var portfolios: Int = 20
    @Option(help: "Checks per BatchCheckPermissions call in the batch workload; 0 skips it.") var batch: Int = 100

    func run() async throws {
        var logger = Logger(label: "portico-bench")
        logger.logLevel = .error
        let key: String
        let host: String
        let port: Int
        var started: (PorticoServer, Task<Void, any Error>)?
        if let address {
            let parts = address.split(separator: ":")
            guard parts.count == 2, let p = Int(parts[1]) else { throw ValidationError("--address must be host:port") }
            host = String(parts[0])
            port = p
            key = self.credential ?? ""
        } else {
            key = OperatorKey.generate()
            let portico = try await Portico.open()
            let server = PorticoServer(
                configuration: ServerConfiguration(host: "127.0.0.1", port: 0, maxCallsInFlightPerConnection: 100_000),
                portico: portico,
                operatorKey: key,
                logger: logger
            )
            let task = Task { try await server.run() }
            started = (server, task)
            host = "127.0.0.1"
            port = try await server.localAddress.port!
        }

        let setup = PorticoClient(configuration: ClientConfiguration(host: host, port: port, credential: key))
        let dataSet = try await DataSet.build(setup, portfolios: self.portfolios)
        await setup.close()
        print("data set: \(dataSet.checks.count) check queries over \(self.portfolios) portfolios")

        var pings: [Double] = []
        var checks: [Double] = []
        var batches: [Double] = []
        for round in 1...self.rounds {
            let ping = try await self.measure(host: host, port: port, key: key) { client, _ in
                _ = try await client.ping()
                return 1
            }
            let check = try await self.measure(host: host, port: port, key: key) { client, index in
                let query = dataSet.checks[index % dataSet.checks.count]
                _ = try await client.checkPermission(query)
                return 1
            }
            pings.append(ping)
            checks.append(check)
            var line = "round \(round): ping \(Int(ping))/s, check \(Int(check))/s, ratio \(String(format: "%.2f", check / ping))"
            if self.batch > 0 {
                let size = self.batch
                let batched = try await self.measure(host: host, port: port, key: key) { client, index in
                    let items = (0..<size).map { offset in
                        let query = dataSet.checks[(index &* size &+ offset) % dataSet.checks.count]
                        return CheckItem(assetID: query.assetID, task: query.task, subject: query.subject.map(CheckItem.Subject.init))
                    }
                    _ = try await client.batchCheckPermissions(.init(checks: items))
                    return size
                }
                batches.append(batched)
                line += ", batched checks \(Int(batched))/s"
            }
            print(line)
        }
        let medianPing = median(pings)
        let medianCheck = median(checks)
        print("")
        print("connections \(self.connections) x in flight \(self.inFlight), \(self.rounds) rounds of \(self.seconds) s (medians):")
        print("  ping RPC:   \(Int(medianPing)) calls/s")
        print("  check RPC:  \(Int(medianCheck)) calls/s")
        // Each round measures ping and check back to back; the median of the per-round ratios is the
        // figure least disturbed by other load on a shared machine.
        let ratios = zip(checks, pings).map { $0 / $1 }
        print("  check/ping: \(String(format: "%.2f", median(ratios))) (median of per-round ratios)")
        if !batches.isEmpty { print("  checks in batches of \(self.batch): \(Int(median(batches))) checks/s") }

        if let (_, task) = started {
            task.cancel()
            _ = await task.result
        }
    }

    /// Calls per second: `connections` clients with `inFlight` workers each, for `seconds`.
    private func measure(
        host: String,
        port: Int,
        key: String,
        _ call: @escaping @Sendable (PorticoConnection, Int) async throws -> Int
    ) async throws -> Double {
        var configuration = ClientConfiguration(host: host, port: port, credential: key)
        configuration.defaultTimeout = .seconds(30)
        var connections: [PorticoConnection] = []
        for _ in 0..<self.connections { connections.append(try await PorticoConnection.connect(configuration: configuration)) }
        let pool = connections
        // Warm up each connection.
        for connection in pool { _ = try await call(connection, 0) }
        let deadline = ContinuousClock.now + .milliseconds(Int(self.seconds * 1000))
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for (c, connection) in pool.enumerated() {
                for worker in 0..<self.inFlight {
                    group.addTask {
                        var done = 0
                        var index = c &* 7919 &+ worker &* 104_729
                        while ContinuousClock.now < deadline {
                            done += try await call(connection, index)
                            index &+= 1
                        }
                        return done
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - start
        for connection in pool { await connection.close() }
        return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

extension CheckItem.Subject {
    init(_ subject: CheckPermissionRequest.Subject) {
        switch subject {
        case .personID(let id): self = .personID(id)
        case .systemUserID(let id): self = .systemUserID(id)
        case .token(let token): self = .token(token)
        }
    }
}

/// A data set built through the API: per portfolio an admin person, 20 employees with one task on
/// each of 20 assets; the check queries mix allowed and denied answers.
struct DataSet: Sendable {
    let checks: [CheckPermissionRequest]

    static func build(_ client: PorticoClient, portfolios: Int) async throws -> DataSet {
        var checks: [CheckPermissionRequest] = []
        let tasks: [PorticoWire.AssetTask] = [.manage, .advertise, .analyze, .draft]
        for index in 0..<portfolios {
            let portfolio = try await client.createPortfolio(.init(name: "bench \(index)")).portfolio!.id
            let admin = try await client.addPerson(.init(portfolioID: portfolio, name: "admin", role: .admin)).person!.id
            var assets: [UInt64] = []
            for asset in 0..<20 {
                assets.append(try await client.addAsset(.init(portfolioID: portfolio, type: .adAccount, name: "ads \(asset)")).asset!.id)
            }
            for employee in 0..<20 {
                let person = try await client.addPerson(.init(portfolioID: portfolio, name: "e\(employee)", role: .employee)).person!.id
                for (offset, asset) in assets.enumerated() {
                    let task = tasks[(employee + offset) % tasks.count]
                    _ = try await client.assignTasks(
                        .init(principal: Principal(kind: .person, id: person), assetID: asset, tasks: [task])
                    )
                    checks.append(CheckPermissionRequest(assetID: asset, task: .analyze, subject: .personID(person)))
                    checks.append(CheckPermissionRequest(assetID: asset, task: .manage, subject: .personID(person)))
                }
            }
            checks.append(CheckPermissionRequest(assetID: assets[0], task: .manage, subject: .personID(admin)))
        }
        var generator = SystemRandomNumberGenerator()
        checks.shuffle(using: &generator)
        return DataSet(checks: checks)
    }
}
