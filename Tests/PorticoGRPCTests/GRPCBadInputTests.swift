import PorticoGRPC
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// Bad input on the gRPC endpoint, from a raw HTTP/2 peer: each bad call gets its gRPC status (or its
/// HTTP answer, when it is not gRPC at all), and the same connection, and a new one, keep serving.
@Suite("gRPC endpoint: bad input")
struct GRPCBadInputTests {
    /// One bad call: what differs from a well-formed CheckPermission call, and the answer expected.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        var path = PorticoService.CheckPermission.path
        /// Headers in place of gRPC's; nil for gRPC's own.
        var headers: [(String, String)]?
        /// Metadata after gRPC's headers; nil for a valid `authorization`.
        var metadata: [(String, String)]?
        /// Metadata after a valid `authorization`.
        var plus: [(String, String)] = []
        /// The DATA bytes; nil for one well-formed CheckPermissionRequest.
        var body: [UInt8]?
        let status: Int?
        var reason: String?
        var httpStatus: String?

        var testDescription: String { self.name }
    }

    static let check = try! CheckPermissionRequest(assetID: 1, task: .analyze, subject: .personID(1)).encoded()

    static let cases: [Case] = [
        Case(
            name: "not gRPC: a text/plain POST",
            headers: [
                (":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "x"),
                ("content-type", "text/plain"),
            ], body: Array("hello".utf8), status: nil, httpStatus: "415"),
        Case(name: "an unknown method", path: "/portico.v1.Portico/NoSuchMethod", status: 12),
        Case(name: "an unknown service", path: "/no.such.Service/Check", status: 12),
        Case(
            name: "a message that is not protobuf", body: RawHTTP2Connection.grpcMessage([0xff, 0xff, 0xff]),
            status: 3, reason: "MALFORMED_MESSAGE"),
        Case(
            name: "a string that is not UTF-8", body: RawHTTP2Connection.grpcMessage([0x1a, 0x02, 0xc3, 0x28]),
            status: 3, reason: "INVALID_UTF8"),
        Case(
            name: "a message over the size limit",
            body: RawHTTP2Connection.grpcMessage(
                [0x08], claimedLength: 64 * 1024 * 1024), status: 8, reason: "FRAME_TOO_LARGE"),
        Case(
            name: "a compressed message no encoding was agreed for",
            body: RawHTTP2Connection.grpcMessage(
                check, compressed: true), status: 13),
        Case(
            name: "two request messages in a unary call",
            body: RawHTTP2Connection.grpcMessage(check) + RawHTTP2Connection.grpcMessage(check),
            status: 3, reason: "MALFORMED_MESSAGE"),
        Case(name: "no request message", body: [], status: 3, reason: "MALFORMED_MESSAGE"),
        Case(name: "no authorization", metadata: [], status: 16, reason: "MISSING_CREDENTIAL"),
        Case(
            name: "a Basic authorization", metadata: [("authorization", "Basic cG9rOng=")], status: 16,
            reason: "CREDENTIAL_INVALID"),
        Case(
            name: "Bearer without a secret", metadata: [("authorization", "Bearer ")], status: 16,
            reason: "CREDENTIAL_INVALID"),
        Case(
            name: "a secret with a space", metadata: [("authorization", "Bearer pok_a pok_b")], status: 16,
            reason: "CREDENTIAL_INVALID"),
        Case(
            name: "two authorization values", metadata: [("authorization", "Bearer x"), ("authorization", "Bearer y")],
            status: 16, reason: "CREDENTIAL_INVALID"),
        Case(
            name: "an operator key that is not the server's",
            metadata: [("authorization", "Bearer pok_" + String(repeating: "A", count: 43))], status: 16,
            reason: "TOKEN_INVALID"),
        Case(
            name: "an on-behalf-of person that is not a number", plus: [("portico-on-behalf-of-person-id", "ana")],
            status: 3, reason: "MALFORMED_HEADER"),
        Case(name: "a deadline of 1 µs", plus: [("grpc-timeout", "1u")], status: 4, reason: "DEADLINE_EXCEEDED"),
        Case(name: "a deadline of 1 ns", plus: [("grpc-timeout", "1n")], status: 4, reason: "DEADLINE_EXCEEDED"),
        Case(
            name: "a deadline that is not one", plus: [("grpc-timeout", "soon")], status: 3,
            reason: "MALFORMED_HEADER"),
        Case(
            name: "a deadline of 9 digits", plus: [("grpc-timeout", "123456789S")], status: 3,
            reason: "MALFORMED_HEADER"),
        Case(
            name: "a deadline of 99,999,999 hours (past what a deadline holds)",
            plus: [("grpc-timeout", "99999999H")], status: 0),
    ]

    @Test("each bad call gets its status, and the connection and the server go on serving", arguments: Self.cases)
    func badCall(_ bad: Case) async throws {
        try await GRPCTestEndpoint.with { endpoint in
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                let stream = connection.newStream()
                let metadata = bad.metadata ?? [("authorization", "Bearer \(endpoint.operatorKey)")] + bad.plus
                try await connection.send(
                    stream: stream,
                    headers: bad.headers ?? RawHTTP2Connection.grpcHeaders(path: bad.path, metadata),
                    body: bad.body ?? RawHTTP2Connection.grpcMessage(Self.check)
                )
                let answer = try await connection.answer(on: stream)
                if let status = bad.status {
                    #expect(answer.grpcStatus == status, "\(answer)")
                }
                if let reason = bad.reason {
                    #expect(answer.errorDetail?.reason == reason, "\(answer)")
                }
                if let httpStatus = bad.httpStatus {
                    #expect(answer.httpStatus == httpStatus, "\(answer)")
                }
                // The same connection serves a well-formed call afterwards...
                try await Self.expectServes(connection, key: endpoint.operatorKey)
            }
            // ...and so does a new one.
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                try await Self.expectServes(connection, key: endpoint.operatorKey)
            }
        }
    }

    @Test("a batch over the limit is refused from its bytes before it is decoded, as on the native port")
    func batchOverLimit() async throws {
        try await GRPCTestEndpoint.with(configuration: .init(port: 0, maxBatchChecks: 10)) { endpoint in
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                // Eleven empty items: field 1, length 0.
                let batch = Array(repeating: [UInt8]([0x0a, 0x00]), count: 11).flatMap { $0 }
                let stream = connection.newStream()
                try await connection.send(
                    stream: stream,
                    headers: RawHTTP2Connection.grpcHeaders(
                        path: PorticoService.BatchCheckPermissions.path,
                        [("authorization", "Bearer \(endpoint.operatorKey)")]),
                    body: RawHTTP2Connection.grpcMessage(batch)
                )
                let answer = try await connection.answer(on: stream)
                #expect(answer.grpcStatus == 3, "\(answer)")
                #expect(answer.errorDetail?.field == "checks", "\(answer)")
                #expect(answer.grpcMessage?.contains("at most 10 checks, not 11") == true, "\(answer)")
            }
        }
    }

    @Test("bytes that are not HTTP/2 close that connection only")
    func notHTTP2() async throws {
        try await GRPCTestEndpoint.with { endpoint in
            let garbage = try await RawHTTP2Connection.connect(port: endpoint.port)
            try await garbage.sendRaw(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            try await garbage.readUntilClosed()
            #expect(garbage.closed)
            await garbage.close()
            try await RawHTTP2Connection.with(port: endpoint.port) { connection in
                try await Self.expectServes(connection, key: endpoint.operatorKey)
            }
        }
    }

    /// A well-formed Ping and GetServerInfo on `connection` are answered OK.
    static func expectServes(_ connection: RawHTTP2Connection, key: String) async throws {
        let stream = connection.newStream()
        try await connection.send(
            stream: stream,
            headers: RawHTTP2Connection.grpcHeaders(
                path: PorticoService.GetServerInfo.path, [("authorization", "Bearer \(key)")]),
            body: RawHTTP2Connection.grpcMessage([])
        )
        let answer = try await connection.answer(on: stream)
        #expect(answer.grpcStatus == 0, "\(answer)")
        let info = try GetServerInfoResponse(decoding: try #require(answer.messages.first))
        #expect(info.version == PorticoServer.version)
    }
}
