import GRPCCore
import PorticoClient
import PorticoGRPC
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// The gRPC endpoint's calls in the server's metrics: the same call counters and latency histograms as
/// the native port's, under `transport="grpc"`, and its checks and refused credentials in the same
/// totals.
@Suite("gRPC endpoint: metrics")
struct GRPCMetricsTests {
    @Test("after known gRPC and native traffic, /metrics counts each call under its transport")
    func countsByTransport() async throws {
        let metrics = ServerMetrics()
        try await GRPCTestEndpoint.with(metrics: metrics) { endpoint in
            let native = endpoint.server.client()
            // 8 native writes.
            let fixture = try await ServerFixture.build(native)
            let allowed = CheckPermissionRequest(
                assetID: fixture.adAccount, task: .analyze, subject: .systemUserID(fixture.worker))
            let denied = CheckPermissionRequest(
                assetID: fixture.adAccount, task: .manage, subject: .systemUserID(fixture.worker))
            #expect(try await native.checkPermission(allowed).allowed)
            let key = endpoint.operatorKey
            let forged = "ptk_\(fixture.worker)_" + String(repeating: "A", count: 43)
            try await endpoint.withClient { client in
                let check = PorticoService.CheckPermission.self
                for _ in 0..<4 { #expect(try await client.call(check, allowed, credential: key).allowed) }
                for _ in 0..<2 { #expect(try await !client.call(check, denied, credential: key).allowed) }
                let batch = try await client.call(
                    PorticoService.BatchCheckPermissions.self,
                    .init(checks: [
                        CheckItem(assetID: fixture.adAccount, task: .advertise, subject: .systemUserID(fixture.worker)),
                        CheckItem(assetID: fixture.adAccount, task: .manage, subject: .systemUserID(fixture.admin)),
                        CheckItem(assetID: 999, task: .manage, subject: .systemUserID(fixture.worker)),
                    ]),
                    credential: key)
                #expect(batch.results.map(\.reason) == [.assigned, .adminRole, .assetNotFound])
                _ = try await client.call(PorticoService.Ping.self, PingRequest())
                await expectRPCError(.unauthenticated, reason: "MISSING_CREDENTIAL") {
                    try await client.call(PorticoService.CheckPermission.self, allowed)
                }
                for _ in 0..<2 {
                    await expectRPCError(.unauthenticated, reason: "TOKEN_INVALID") {
                        try await client.call(PorticoService.CheckPermission.self, allowed, credential: forged)
                    }
                }
                await expectRPCError(.unauthenticated, reason: "CREDENTIAL_INVALID") {
                    try await client.call(
                        PorticoService.CheckPermission.self, allowed, metadata: ["authorization": "Basic cG9rOng="])
                }
                await expectRPCError(.notFound) {
                    try await client.call(
                        PorticoService.GetPortfolio.self, .init(portfolioID: 987_654), credential: key)
                }
            }
            // A body that is not protobuf: refused by the deserializer, and counted with its status.
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                let stream = connection.newStream()
                try await connection.send(
                    stream: stream,
                    headers: RawHTTP2Connection.grpcHeaders(
                        path: "/portico.v1.Portico/CheckPermission", [("authorization", "Bearer \(key)")]),
                    body: RawHTTP2Connection.grpcMessage([0xFF, 0xFF, 0xFF])
                )
                #expect(try await connection.answer(on: stream).grpcStatus == 3)
            }

            let scraped = try Exposition(await metrics.scrape(endpoint.server.server))
            let expected: [String: Double] = [
                #"portico_calls_total{transport="grpc",method="CheckPermission",code="OK"}"#: 6,
                #"portico_calls_total{transport="grpc",method="CheckPermission",code="UNAUTHENTICATED"}"#: 4,
                #"portico_calls_total{transport="grpc",method="CheckPermission",code="INVALID_ARGUMENT"}"#: 1,
                #"portico_calls_total{transport="grpc",method="BatchCheckPermissions",code="OK"}"#: 1,
                #"portico_calls_total{transport="grpc",method="Ping",code="OK"}"#: 1,
                #"portico_calls_total{transport="grpc",method="GetPortfolio",code="NOT_FOUND"}"#: 1,
                #"portico_calls_total{transport="native",method="CheckPermission",code="OK"}"#: 1,
                #"portico_calls_total{transport="native",method="CreatePortfolio",code="OK"}"#: 1,
                #"portico_call_duration_seconds_count{transport="grpc",method="CheckPermission"}"#: 11,
                #"portico_call_duration_seconds_bucket{transport="grpc",method="CheckPermission",le="+Inf"}"#: 11,
                #"portico_call_duration_seconds_count{transport="native",method="CheckPermission"}"#: 1,
                // 1 native and 4 gRPC checks allowed, and one of the batch; the rest of the batch and
                // the denied ones.
                #"portico_checks_total{decision="allow",reason="ASSIGNED"}"#: 6,
                #"portico_checks_total{decision="allow",reason="ADMIN_ROLE"}"#: 1,
                #"portico_checks_total{decision="deny",reason="TASK_NOT_GRANTED"}"#: 2,
                #"portico_checks_total{decision="deny",reason="ASSET_NOT_FOUND"}"#: 1,
                #"portico_auth_failures_total{reason="MISSING_CREDENTIAL"}"#: 1,
                #"portico_auth_failures_total{reason="TOKEN_INVALID"}"#: 2,
                #"portico_auth_failures_total{reason="CREDENTIAL_INVALID"}"#: 1,
            ]
            for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
                #expect(scraped.values[series] == value, "\(series)")
            }
            // Nothing else was counted over gRPC, nor any gRPC call as native.
            #expect(scraped.sum(prefix: #"portico_calls_total{transport="grpc""#) == 14)
            #expect(scraped.sum(prefix: #"portico_calls_total{transport="native",method="CheckPermission""#) == 1)
            #expect(scraped.sum(prefix: #"portico_calls_total{transport="native",method="Ping""#) == 0)
            #expect(scraped.sum(prefix: "portico_checks_total{") == 10)
            #expect(scraped.sum(prefix: "portico_auth_failures_total{") == 4)
            let buckets = scraped.series(
                prefix: #"portico_call_duration_seconds_bucket{transport="grpc",method="CheckPermission""#)
            #expect(buckets.count == 23)
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 <= $1 })
        }
    }
}
