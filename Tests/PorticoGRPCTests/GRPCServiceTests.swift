import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PorticoClient
import PorticoGRPC
import PorticoTestSupport
import PorticoWire
import Testing

/// `service Portico` over gRPC: every RPC at its standard path, the same answers, statuses and
/// ErrorDetail as the native port, credentials in metadata, one state behind both ports.
@Suite("gRPC endpoint: the service")
struct GRPCServiceTests {
    @Test(
        "every RPC is served at /portico.v1.Portico/Name: open ones answer, the rest ask for a credential"
    )
    func everyRPCRouted() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                for rpc in PorticoService.rpcs {
                    #expect(rpc.path == "/portico.v1.Portico/\(rpc.name)")
                    let stream = connection.newStream()
                    try await connection.send(
                        stream: stream,
                        headers: RawHTTP2Connection.grpcHeaders(path: rpc.path),
                        body: RawHTTP2Connection.grpcMessage([])
                    )
                    let answer = try await connection.answer(on: stream)
                    if rpc.method == .ping || rpc.method == .getServerInfo {
                        #expect(answer.grpcStatus == 0, "\(rpc.name): \(answer)")
                        #expect(answer.messages.count == 1, "\(rpc.name)")
                    } else {
                        #expect(answer.grpcStatus == 16, "\(rpc.name): \(answer)")
                        #expect(answer.errorDetail?.reason == "MISSING_CREDENTIAL", "\(rpc.name)")
                        #expect(answer.errorDetail?.metaCode == 190, "\(rpc.name)")
                    }
                }
            }
        }
    }

    @Test("checks over gRPC answer as over the native port, by principal, by token, explained")
    func checksMatchNative() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            let native = endpoint.server.client()
            let fixture = try await ServerFixture.build(native)
            let requests: [CheckPermissionRequest] = [
                .init(assetID: fixture.adAccount, task: .analyze, subject: .systemUserID(fixture.worker)),
                .init(assetID: fixture.adAccount, task: .manage, explain: true, subject: .systemUserID(fixture.worker)),
                .init(assetID: fixture.adAccount, task: .analyze, subject: .token(fixture.workerToken)),
                .init(assetID: fixture.adAccount, task: .advertise, subject: .token(fixture.workerToken)),
                .init(assetID: 999_999, task: .analyze, subject: .personID(1)),
            ]
            try await endpoint.withClient { client in
                for request in requests {
                    let viaGRPC = try await client.call(
                        PorticoService.CheckPermission.self, request, credential: endpoint.operatorKey)
                    let viaNative = try await native.checkPermission(request)
                    #expect(viaGRPC == viaNative, "\(request)")
                }
                // A regular system user's token may check its own access, over gRPC as natively.
                let own = try await client.call(
                    PorticoService.CheckPermission.self, requests[0], credential: fixture.workerToken)
                #expect(own.allowed)
            }
        }
    }

    @Test("a refused call carries its status, message and ErrorDetail (reason, Meta code and subcode, field)")
    func failuresCarryDetail() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            let native = endpoint.server.client()
            let fixture = try await ServerFixture.build(native)
            try await endpoint.withClient { client in
                let invalidTask = AssignTasksRequest(
                    principal: Principal(kind: .systemUser, id: fixture.worker),
                    assetID: fixture.adAccount,
                    tasks: [.moderate]
                )
                do {
                    _ = try await client.call(
                        PorticoService.AssignTasks.self, invalidTask, credential: fixture.adminToken)
                    Issue.record("an invalid task was accepted")
                } catch let error as RPCError {
                    #expect(error.code == .invalidArgument)
                    let detail = try #require(error.porticoErrorDetail)
                    #expect(detail.metaCode == 100 && detail.metaSubcode == 1_752_129, "\(detail)")
                    // The native port's answer to the same call: the same status, message and detail.
                    do {
                        _ = try await native.assignTasks(
                            invalidTask, options: CallOptions(credential: fixture.adminToken))
                        Issue.record("an invalid task was accepted natively")
                    } catch let nativeError as PorticoStatusError {
                        #expect(nativeError.code.rawValue == Int32(error.code.rawValue))
                        #expect(nativeError.message == error.message)
                        #expect(nativeError.detail == detail)
                    }
                }
                await expectRPCError(.notFound, reason: "NOT_FOUND") {
                    try await client.call(
                        PorticoService.GetAsset.self, GetAssetRequest(assetID: 999_999),
                        credential: endpoint.operatorKey)
                }
                await expectRPCError(.permissionDenied) {
                    try await client.call(
                        PorticoService.CreatePortfolio.self, CreatePortfolioRequest(name: "x"),
                        credential: fixture.adminToken)
                }
                await expectRPCError(.unauthenticated, reason: "TOKEN_INVALID") {
                    try await client.call(
                        PorticoService.GetPortfolio.self, GetPortfolioRequest(portfolioID: fixture.portfolio),
                        credential: "ptk_1_" + String(repeating: "A", count: 43))
                }
            }
        }
    }

    @Test("a service credential acts on behalf of a person given in metadata; no other credential may")
    func onBehalfOf() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            let native = endpoint.server.client()
            let fixture = try await ServerFixture.build(native)
            let person = try await native.addPerson(
                .init(portfolioID: fixture.portfolio, name: "Ana", role: .employee)
            ).person!.id
            let service = try await native.createServiceCredential(.init(name: "backend")).secret
            let request = CheckPermissionRequest(assetID: fixture.adAccount, task: .analyze, subject: .personID(person))
            try await endpoint.withClient { client in
                let viaGRPC = try await client.call(
                    PorticoService.CheckPermission.self, request, credential: service, onBehalfOf: person)
                let viaNative = try await native.checkPermission(
                    request, options: CallOptions(credential: service, onBehalfOfPersonID: person))
                #expect(viaGRPC == viaNative)
                await expectRPCError(.permissionDenied, reason: "ON_BEHALF_OF_NOT_ALLOWED") {
                    try await client.call(
                        PorticoService.CheckPermission.self, request, credential: endpoint.operatorKey,
                        onBehalfOf: person)
                }
            }
        }
    }

    @Test("writes through both ports take one sequence of revisions, and each port sees the other's at once")
    func oneStateTwoPorts() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            let native = endpoint.server.client()
            try await endpoint.withClient { client in
                var last = try await native.getServerInfo().revision
                for index in 0..<20 {
                    let request = CreatePortfolioRequest(name: "p\(index)")
                    let created =
                        index.isMultiple(of: 2)
                        ? try await native.createPortfolio(request)
                        : try await client.call(
                            PorticoService.CreatePortfolio.self, request, credential: endpoint.operatorKey)
                    #expect(created.revision == last + 1, "write \(index)")
                    last = created.revision
                    let id = try #require(created.portfolio).id
                    // Read back through the other port, at the revision just answered.
                    let seen =
                        index.isMultiple(of: 2)
                        ? try await client.call(
                            PorticoService.GetPortfolio.self, GetPortfolioRequest(portfolioID: id),
                            credential: endpoint.operatorKey
                        ).portfolio
                        : try await native.getPortfolio(GetPortfolioRequest(portfolioID: id)).portfolio
                    #expect(seen == created.portfolio)
                }
                var info = try await client.call(PorticoService.GetServerInfo.self, GetServerInfoRequest())
                var nativeInfo = try await native.getServerInfo()
                #expect(info.lastContactKnown && nativeInfo.lastContactKnown)
                // How long since the last commit differs between two calls; everything else is the same.
                info.sinceLastContactMicros = 0
                nativeInfo.sinceLastContactMicros = 0
                #expect(info == nativeInfo)
                #expect(info.revision == last)
            }
        }
    }
}
