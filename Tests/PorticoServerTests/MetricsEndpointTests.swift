import Logging
import NIOCore
import PorticoClient
import PorticoCore
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// The operations endpoint over HTTP: /metrics after known traffic gives the exact counts, and
/// /healthz, /readyz and the refusals of anything else.
@Suite("Operations endpoint: metrics, health, readiness")
struct MetricsEndpointTests {
    @Test("/metrics after known traffic: calls by method and status, checks by reason, auth failures, store commits")
    func countsAfterKnownTraffic() async throws {
        let metrics = ServerMetrics()
        try await TestServer.with(metrics: metrics) { server in
            try await Self.withEndpoint(server.server, metrics) { port in
                let client = server.client()
                let fixture = try await ServerFixture.build(client)
                // 8 writes: a portfolio, an app, two system users, two tokens, an asset, an assignment.
                let allowed = CheckPermissionRequest(
                    assetID: fixture.adAccount, task: .analyze, subject: .systemUserID(fixture.worker))
                let denied = CheckPermissionRequest(
                    assetID: fixture.adAccount, task: .manage, subject: .systemUserID(fixture.worker))
                for _ in 0..<5 { #expect(try await client.checkPermission(allowed).allowed) }
                for _ in 0..<3 { #expect(try await !client.checkPermission(denied).allowed) }
                let batch = try await client.batchCheckPermissions(
                    .init(checks: [
                        CheckItem(assetID: fixture.adAccount, task: .advertise, subject: .systemUserID(fixture.worker)),
                        CheckItem(assetID: fixture.adAccount, task: .manage, subject: .systemUserID(fixture.admin)),
                        CheckItem(assetID: 999, task: .manage, subject: .systemUserID(fixture.worker)),
                    ]))
                #expect(batch.results.map(\.reason) == [.assigned, .adminRole, .assetNotFound])
                await expectStatus(.unauthenticated, reason: "MISSING_CREDENTIAL") {
                    try await client.checkPermission(allowed, options: CallOptions(credential: ""))
                }
                let forged = "ptk_\(fixture.worker)_" + String(repeating: "A", count: 43)
                for _ in 0..<2 {
                    await expectStatus(.unauthenticated, reason: "TOKEN_INVALID") {
                        try await client.checkPermission(allowed, options: CallOptions(credential: forged))
                    }
                }

                let (status, body) = try await Self.get(port, "/metrics")
                #expect(status == 200)
                let scraped = try Exposition(body)
                let expected: [String: Double] = [
                    #"portico_calls_total{transport="native",method="CreatePortfolio",code="OK"}"#: 1,
                    #"portico_calls_total{transport="native",method="AddApp",code="OK"}"#: 1,
                    #"portico_calls_total{transport="native",method="CreateSystemUser",code="OK"}"#: 2,
                    #"portico_calls_total{transport="native",method="GenerateToken",code="OK"}"#: 2,
                    #"portico_calls_total{transport="native",method="AddAsset",code="OK"}"#: 1,
                    #"portico_calls_total{transport="native",method="AssignTasks",code="OK"}"#: 1,
                    #"portico_calls_total{transport="native",method="CheckPermission",code="OK"}"#: 8,
                    #"portico_calls_total{transport="native",method="CheckPermission",code="UNAUTHENTICATED"}"#: 3,
                    #"portico_calls_total{transport="native",method="BatchCheckPermissions",code="OK"}"#: 1,
                    #"portico_call_duration_seconds_count{transport="native",method="CheckPermission"}"#: 11,
                    #"portico_call_duration_seconds_bucket{transport="native",method="CheckPermission",le="+Inf"}"#: 11,
                    #"portico_call_duration_seconds_count{transport="native",method="GenerateToken"}"#: 2,
                    #"portico_checks_total{decision="allow",reason="ASSIGNED"}"#: 6,
                    #"portico_checks_total{decision="allow",reason="ADMIN_ROLE"}"#: 1,
                    #"portico_checks_total{decision="deny",reason="TASK_NOT_GRANTED"}"#: 3,
                    #"portico_checks_total{decision="deny",reason="ASSET_NOT_FOUND"}"#: 1,
                    #"portico_auth_failures_total{reason="MISSING_CREDENTIAL"}"#: 1,
                    #"portico_auth_failures_total{reason="TOKEN_INVALID"}"#: 2,
                    #"portico_connections_refused_total{limit="connections"}"#: 0,
                    "portico_store_commit_changes_sum": 8,
                    "portico_revision": 8,
                    "portico_ready": 1,
                    "portico_log_head_revision": 8,
                    "portico_log_lag_revisions": 0,
                    "portico_log_lag_seconds": 0,
                    "portico_store_available": 1,
                    "portico_store_commit_failures_total": 0,
                ]
                for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
                    #expect(scraped.values[series] == value, "\(series)")
                }
                // Nothing else was counted for these methods and reasons.
                #expect(scraped.sum(prefix: "portico_checks_total{") == 11)
                #expect(scraped.sum(prefix: "portico_auth_failures_total{") == 3)
                #expect(scraped.sum(prefix: #"portico_calls_total{transport="native",method="CheckPermission""#) == 11)
                // No call came over gRPC: none is counted under its label.
                #expect(scraped.sum(prefix: #"portico_calls_total{transport="grpc""#) == 0)
                // One commit per batch, each between 1 and 8 changes; every latency bucket cumulative.
                let commits = try #require(scraped.values["portico_store_commit_changes_count"])
                #expect((1...8).contains(commits))
                #expect(scraped.values["portico_store_commit_seconds_count"] == commits)
                let buckets = scraped.series(
                    prefix: #"portico_call_duration_seconds_bucket{transport="native",method="CheckPermission""#)
                #expect(buckets.count == 23)
                #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 <= $1 })
                #expect(try #require(scraped.values["portico_connections_open"]) >= 1)
                #expect(try #require(scraped.values["process_resident_memory_bytes"]) > 1_000_000)
                #expect(try #require(scraped.values["process_open_fds"]) > 3)
            }
        }
    }

    @Test("/healthz and /readyz answer; other paths 404, other methods 405")
    func healthAndReadiness() async throws {
        let metrics = ServerMetrics()
        try await TestServer.with(metrics: metrics) { server in
            try await Self.withEndpoint(server.server, metrics) { port in
                let health = try await Self.get(port, "/healthz")
                #expect(health.0 == 200 && health.1 == "ok\n")
                let ready = try await Self.get(port, "/readyz")
                #expect(ready.0 == 200 && ready.1 == "ready\n")
                let unknown = try await Self.get(port, "/nothing")
                #expect(unknown.0 == 404)
                let posted = try await Self.get(port, "/metrics", method: "POST")
                #expect(posted.0 == 405)
            }
        }
    }

    @Test("/readyz: 503 while the core loads, 200 while serving, 503 while a write holds up the drain")
    func readinessFollowsThePhase() async throws {
        let loaded = Gate()
        let store = GateStore()
        let metrics = ServerMetrics()
        let key = OperatorKey.generate()
        var quiet = Logger(label: "portico.test")
        quiet.logLevel = .critical
        let server = PorticoServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0), operatorKey: key, logger: quiet,
            metrics: metrics
        ) {
            await loaded.wait()
            return try await Portico.open(store: store)
        }
        let running = Task { try await server.run() }
        let client = PorticoClient(
            configuration: ClientConfiguration(
                host: "127.0.0.1", port: try await server.localAddress.port!, credential: key))
        try await Self.withEndpoint(server, metrics) { port in
            let loading = try await Self.get(port, "/readyz")
            #expect(loading.0 == 503 && loading.1 == "loading\n")
            #expect(try Exposition(try await Self.get(port, "/metrics").1).values["portico_ready"] == 0)
            loaded.open()
            try await server.waitUntilReady()
            let ready = try await Self.get(port, "/readyz")
            #expect(ready.0 == 200 && ready.1 == "ready\n")
            #expect(try Exposition(try await Self.get(port, "/metrics").1).values["portico_ready"] == 1)

            // A write held in the store keeps the server draining once it is told to stop.
            let write = Task { try await client.createPortfolio(.init(name: "Acme", systemUserTier: .none)) }
            var polls = 0
            while server.statistics.callsInFlight == 0 && polls < 2_000 {
                try await Task.sleep(for: .milliseconds(5))
                polls += 1
            }
            try #require(server.statistics.callsInFlight == 1)
            running.cancel()
            polls = 0
            while server.phase != .draining && polls < 2_000 {
                try await Task.sleep(for: .milliseconds(5))
                polls += 1
            }
            let draining = try await Self.get(port, "/readyz")
            #expect(draining.0 == 503 && draining.1 == "draining\n")
            #expect(try await Self.get(port, "/healthz").0 == 200)
            store.open()
            #expect(try await write.value.revision == 1)
            _ = await running.result
        }
        await client.close()
    }

    @Test("a connection refused over the per-address limit is counted under its limit")
    func refusedConnectionsCounted() async throws {
        let metrics = ServerMetrics()
        let configuration = ServerConfiguration(port: 0, maxConnections: 8, maxConnectionsPerAddress: 1)
        try await TestServer.with(configuration: configuration, metrics: metrics) { server in
            try await Self.withEndpoint(server.server, metrics) { port in
                _ = try await server.client().ping(.init())
                let (reply, closed) = try await RawConnection.connect(port: server.port).exchange(WirePreface.bytes)
                #expect(closed)
                #expect(try frames(in: reply).first?.header.statusCode == .resourceExhausted)
                let scraped = try Exposition(try await Self.get(port, "/metrics").1)
                #expect(scraped.values[#"portico_connections_refused_total{limit="connections_per_address"}"#] == 1)
                #expect(scraped.values[#"portico_connections_refused_total{limit="connections"}"#] == 0)
                #expect(scraped.values[#"portico_calls_total{transport="native",method="Ping",code="OK"}"#] == 1)
            }
        }
    }

    /// Runs an endpoint for `server` on a port of its own while `body` runs.
    static func withEndpoint(
        _ server: PorticoServer,
        _ metrics: ServerMetrics,
        _ body: (Int) async throws -> Void
    ) async throws {
        var quiet = Logger(label: "portico.test")
        quiet.logLevel = .critical
        let endpoint = OperationsEndpoint(host: "127.0.0.1", port: 0, server: server, metrics: metrics, logger: quiet)
        let running = Task { try await endpoint.run() }
        defer { running.cancel() }
        let port = try #require(try await endpoint.localAddress.port)
        try await body(port)
    }

    /// One HTTP/1.1 request on a connection of its own, read until the endpoint closes it.
    static func get(_ port: Int, _ path: String, method: String = "GET") async throws -> (Int, String) {
        let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        let (reply, closed) = try await RawConnection.connect(port: port).exchange(Array(request.utf8))
        #expect(closed)
        let text = String(buffer: reply)
        let parts = text.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        let statusLine = parts.first?.split(separator: "\r\n").first ?? ""
        let status = try #require(Int(statusLine.split(separator: " ").dropFirst().first ?? ""), "\(text)")
        return (status, parts.count > 1 ? String(parts[1]) : "")
    }
}
