import Logging
import NIOPosix
import PorticoCore
import PorticoServer
import PorticoWire

/// The server's instructions per call: ping (the transport alone), a check by principal, checks by
/// token over 16 secrets (each seen before on the connection) and over 1,000 (more than a connection
/// remembers), and a batch of 100 checks by principal.
enum RPCCost {
    struct Workload {
        let name: String
        let method: PorticoWire.Method
        let bodies: [[UInt8]]
        let checksPerCall: Int
    }

    /// On the main thread, which the script leaves out of the server's count. A name ending in
    /// `-metrics` runs its workload against a server that keeps metrics (`make callgrind CALLGRIND_MODE=metrics`).
    static func run(_ name: String, calls: Int, inFlight: Int) throws {
        let keepsMetrics = name.hasSuffix("-metrics")
        let name = keepsMetrics ? String(name.dropLast("-metrics".count)) : name
        let world = try blocking { try await HotPathWorld.build(portfolios: 20) }
        let key = OperatorKey.generate()
        var logger = Logger(label: "hot-path-cost")
        logger.logLevel = .critical
        // Everything runs some fifty times slower under valgrind: no watchdog may fire meanwhile.
        let patient = Duration.seconds(3600)
        let configuration = ServerConfiguration(
            host: "127.0.0.1",
            port: 0,
            idleTimeout: patient,
            firstCallTimeout: patient,
            frameTimeout: patient,
            slowClientTimeout: patient
        )
        let server = PorticoServer(
            configuration: configuration,
            portico: world.portico,
            operatorKey: key,
            logger: logger,
            metrics: keepsMetrics ? ServerMetrics() : nil,
            eventLoopGroup: MultiThreadedEventLoopGroup(numberOfThreads: 1)
        )
        let running = Task { try await server.run() }
        let connection = try BlockingConnection(port: try blocking { try await server.localAddress.port! })

        let items = world.checkItems(4096)
        let checks = try items.map { item in
            try CheckPermissionRequest(assetID: item.assetID, task: item.task, subject: Self.subject(item.subject!))
                .encoded()
        }
        let tokenChecks = try world.tokens.map { token in
            try CheckPermissionRequest(
                assetID: token.asset.rawValue,
                task: PorticoWire.AssetTask(protoValueName: "ASSET_TASK_" + token.task.name)!,
                subject: .token(token.secret)
            ).encoded()
        }
        let batches = try stride(from: 0, to: items.count, by: 100).dropLast().map { start in
            try BatchCheckPermissionsRequest(checks: Array(items[start..<start + 100])).encoded()
        }
        let workloads = [
            Workload(name: "ping", method: .ping, bodies: [[]], checksPerCall: 0),
            Workload(name: "check", method: .checkPermission, bodies: checks, checksPerCall: 1),
            Workload(
                name: "check-token-16", method: .checkPermission, bodies: Array(tokenChecks.prefix(16)),
                checksPerCall: 1),
            Workload(name: "check-token-1000", method: .checkPermission, bodies: tokenChecks, checksPerCall: 1),
            Workload(name: "batch-100", method: .batchCheckPermissions, bodies: batches, checksPerCall: 100),
        ]
        guard let workload = workloads.first(where: { $0.name == name }) else {
            throw Failure("no workload \(name): \(workloads.map(\.name).joined(separator: ", "))")
        }
        // Warm: every body sent once at least, so caches hold what they hold in steady state.
        try Self.drive(connection, workload, calls: max(workload.bodies.count, 1024), inFlight: inFlight, key: key)
        let count = workload.checksPerCall > 1 ? max(calls / 16, 1) : calls
        try measured(workload.name, calls: count, checks: count * workload.checksPerCall) {
            try Self.drive(connection, workload, calls: count, inFlight: inFlight, key: key)
        }
        running.cancel()
    }

    /// `calls` calls of `workload`, its bodies in turn, `inFlight` to a round.
    private static func drive(
        _ connection: BlockingConnection,
        _ workload: Workload,
        calls: Int,
        inFlight: Int,
        key: String
    ) throws {
        var next = 0
        while next < calls {
            let count = min(inFlight, calls - next)
            var frames: [UInt8] = []
            for index in next..<next + count {
                frames += try connection.frame(
                    method: workload.method,
                    body: workload.bodies[index % workload.bodies.count],
                    credential: key
                )
            }
            _ = try connection.round(frames, answers: count)
            next += count
        }
    }

    private static func subject(_ subject: CheckItem.Subject) -> CheckPermissionRequest.Subject {
        switch subject {
        case .personID(let id): .personID(id)
        case .systemUserID(let id): .systemUserID(id)
        case .token(let secret): .token(secret)
        case .personExternal(let reference): .personExternal(reference)
        case .systemUserExternal(let reference): .systemUserExternal(reference)
        }
    }
}
