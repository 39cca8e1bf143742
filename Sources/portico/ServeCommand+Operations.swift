import ArgumentParser
import Logging
import Metrics
import NIOCore
import PorticoClient
import PorticoServer
import Prometheus

/// `portico serve`'s operations flags: the log's format and the metrics endpoint.
extension ServeCommand {
    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        /// swift-log's stream handler: `2026-01-31T12:00:00+0000 info portico: peer=... message`.
        case text
        /// One JSON object per line (``JSONLogHandler``).
        case json
    }

    /// The server's logger, in the format and at the level the flags give, on standard error.
    func makeLogger() -> Logger {
        var logger = Logger(label: "portico") { label in
            switch self.logFormat {
            case .text: StreamLogHandler.standardError(label: label)
            case .json: JSONLogHandler.standardError(label: label)
            }
        }
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
        return logger
    }

    /// `--metrics-address` as host and port: `HOST:PORT`, an IPv6 host in brackets (`[::1]:9700`).
    static func metricsListener(_ address: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":") else {
            throw ValidationError("--metrics-address must be HOST:PORT (e.g. 127.0.0.1:9700), not '\(address)'")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--metrics-address must be HOST:PORT with a port 0 to 65535, not '\(address)'")
        }
        return (host, port)
    }

    /// The metrics the server keeps and the endpoint that serves them, when `--metrics-address` is
    /// given; what swift-metrics records in this process goes to the same registry.
    func operations(logger: Logger) throws -> (ServerMetrics, (PorticoServer) -> OperationsEndpoint)? {
        guard let address = self.metricsAddress else { return nil }
        let (host, port) = try Self.metricsListener(address)
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        return (metrics, { OperationsEndpoint(host: host, port: port, server: $0, metrics: metrics, logger: logger) })
    }

    /// Prints where the endpoint listens, once it does (with port 0, the port chosen).
    /// - Throws: `CommandFailure` when it cannot listen.
    static func announce(_ endpoint: OperationsEndpoint) async throws {
        let address: SocketAddress
        do {
            address = try await endpoint.localAddress
        } catch {
            throw CommandFailure(
                "cannot listen for metrics on \(endpoint.host):\(endpoint.port): \(NetworkErrorText.describe(error))")
        }
        let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? endpoint.host
        say("portico: metrics on http://\(host):\(address.port ?? endpoint.port)/metrics")
    }
}
