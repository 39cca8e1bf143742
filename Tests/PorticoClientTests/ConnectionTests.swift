import NIOCore
import PorticoClient
import PorticoWire
import Testing

/// A check whose fake answer is derived from `assetID`.
func check(_ assetID: UInt64) -> CheckPermissionRequest {
    CheckPermissionRequest(assetID: assetID, task: .analyze, subject: .personID(7))
}

/// The status a call failed with, or nil when it succeeded.
func status(of body: () async throws -> some Any) async -> PorticoStatusError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error as? PorticoStatusError
    }
}

/// Starts `count` checks that `server` holds, drops every connection once it has them all, and returns
/// how each call ended.
func failuresAfterDisconnect(
    of count: Int,
    through caller: some PorticoCalling,
    server: FakeServer
) async throws -> [PorticoStatusError?] {
    try await withThrowingTaskGroup(of: PorticoStatusError?.self) { group in
        for assetID in 1...UInt64(count) {
            group.addTask { await status { try await caller.checkPermission(check(assetID)) } }
        }
        try await server.waitUntil { $0.requests.count == count }
        await server.closeConnections()
        return try await group.reduce(into: []) { $0.append($1) }
    }
}

@Suite("One connection against a fake server")
struct ConnectionTests {
    @Test("typed calls answer, with the configured or the per-call credential, after the preface")
    func typedCalls() async throws {
        let server = try await FakeServer.start()
        let configuration = ClientConfiguration(port: server.port, credential: "psc_1_default", onBehalfOfPersonID: 3)
        let connection = try await PorticoConnection.connect(configuration: configuration)

        _ = try await connection.ping()
        let even = try await connection.checkPermission(check(42))
        let odd = try await connection.checkPermission(
            check(7),
            options: CallOptions(credential: "ptk_2_call", onBehalfOfPersonID: 9, timeout: .seconds(30))
        )

        #expect(even.allowed && even.revision == 42 && even.reason == .assigned)
        #expect(!odd.allowed && odd.revision == 7)
        let log = server.snapshot
        #expect(log.prefaces == [WirePreface.bytes])
        let headers = log.requests.map(\.header)
        #expect(headers.map(\.callID) == [1, 2, 3])
        #expect(headers.map(\.method) == [1, 120, 120])
        #expect(headers[1].credential == "psc_1_default" && headers[1].onBehalfOfPersonID == 3)
        #expect(headers[1].timeoutMicros == 0)
        #expect(headers[2].credential == "ptk_2_call" && headers[2].onBehalfOfPersonID == 9)
        #expect(headers[2].timeoutMicros == 30_000_000)
        await connection.close()
        await server.stop()
    }

    @Test("answers that come back in reverse order reach their own calls")
    func outOfOrder() async throws {
        let calls = 40
        let server = try await FakeServer.start { _, _ in .holdUntil(calls) }
        let connection = try await PorticoConnection.connect(configuration: ClientConfiguration(port: server.port))

        try await withThrowingTaskGroup { group in
            for assetID in 1...UInt64(calls) {
                group.addTask {
                    let answer = try await connection.checkPermission(check(assetID))
                    #expect(answer.revision == assetID && answer.allowed == assetID.isMultiple(of: 2))
                }
            }
            try await group.waitForAll()
        }

        let answered = server.snapshot.answered
        #expect(answered.count == calls && answered != answered.sorted())
        await connection.close()
        await server.stop()
    }

    @Test("a passed deadline fails the call with DEADLINE_EXCEEDED, sends CANCEL and drops the late answer")
    func deadline() async throws {
        let server = try await FakeServer.start { _, check in check?.assetID == 13 ? .hold : .answer }
        let connection = try await PorticoConnection.connect(
            configuration: ClientConfiguration(port: server.port, defaultTimeout: .milliseconds(50))
        )

        let failure = await status { try await connection.checkPermission(check(13)) }
        // Later calls wait as long as they need: the machine may be busy with other tests.
        let patient = CallOptions(timeout: .seconds(30))

        #expect(failure?.code == .deadlineExceeded)
        // On a busy machine the deadline can pass before the server has read the request.
        try await server.waitUntil { $0.requests.count == 1 }
        let callID = try #require(server.snapshot.requests.first?.header.callID)
        #expect(server.snapshot.requests.first?.header.timeoutMicros == 50_000)
        try await server.waitUntil { $0.cancels.contains { $0.header.callID == callID } }
        try await server.answerHeld()
        let later = try await connection.checkPermission(check(8), options: patient)
        #expect(later.revision == 8)
        await connection.close()
        await server.stop()
    }

    @Test("cancelling the waiting task fails the call with CANCELLED and sends CANCEL")
    func taskCancellation() async throws {
        let server = try await FakeServer.start { _, _ in .hold }
        let connection = try await PorticoConnection.connect(configuration: ClientConfiguration(port: server.port))

        let task = Task { await status { try await connection.checkPermission(check(5)) } }
        try await server.waitUntil { $0.requests.count == 1 }
        task.cancel()

        #expect(await task.value?.code == .cancelled)
        try await server.waitUntil { $0.cancels.map(\.header.callID) == [1] }
        await connection.close()
        await server.stop()
    }

    @Test("a failed answer becomes a PorticoStatusError with its code, message and detail")
    func errorStatus() async throws {
        let detail = ErrorDetail(reason: "NOT_ALLOWED", metaCode: 200, field: "asset_id")
        let server = try await FakeServer.start { _, _ in .fail(.permissionDenied, "denied", detail) }
        let connection = try await PorticoConnection.connect(configuration: ClientConfiguration(port: server.port))

        let failure = await status { try await connection.checkPermission(check(1)) }

        #expect(failure == PorticoStatusError(code: .permissionDenied, message: "denied", detail: detail))
        await connection.close()
        await server.stop()
    }

    @Test("an OK answer whose body does not decode fails the call with INTERNAL")
    func undecodableBody() async throws {
        let server = try await FakeServer.start { _, _ in .garbage }
        let connection = try await PorticoConnection.connect(configuration: ClientConfiguration(port: server.port))

        let failure = await status { try await connection.checkPermission(check(1)) }

        #expect(failure?.code == .internal && failure?.detail?.reason == "UNDECODABLE_RESPONSE")
        #expect(failure?.message.contains("CheckPermissionResponse") == true)
        await connection.close()
        await server.stop()
    }

    @Test("GOAWAY: calls up to last_call_id are answered, those above and new ones fail UNAVAILABLE, then it closes")
    func goAway() async throws {
        let server = try await FakeServer.start { _, _ in .hold }
        let connection = try await PorticoConnection.connect(configuration: ClientConfiguration(port: server.port))

        try await withThrowingTaskGroup(of: (UInt64, PorticoStatusError?).self) { group in
            for assetID in UInt64(1)...6 {
                group.addTask { (assetID, await status { try await connection.checkPermission(check(assetID)) }) }
            }
            try await server.waitUntil { $0.requests.count == 6 }
            let callIDs = Dictionary(
                uniqueKeysWithValues: server.snapshot.requests.map { ($0.assetID!, $0.header.callID) })
            try await server.goAway(lastCallID: 3)

            for _ in 0..<3 {
                let (assetID, failure) = try #require(try await group.next())
                #expect(callIDs[assetID]! > 3 && failure?.code == .unavailable)
            }
            #expect(!connection.isAcceptingCalls)
            #expect(await status { try await connection.ping() }?.code == .unavailable)
            try await server.answerHeld()
            for _ in 0..<3 {
                let (assetID, failure) = try #require(try await group.next())
                #expect(callIDs[assetID]! <= 3 && failure == nil)
            }
        }
        await connection.waitUntilClosed()
        #expect(server.snapshot.requests.count == 6)
        await server.stop()
    }

    @Test("losing the connection fails every call in flight with UNAVAILABLE")
    func connectionLoss() async throws {
        let server = try await FakeServer.start { _, _ in .hold }
        let connection = try await PorticoConnection.connect(configuration: ClientConfiguration(port: server.port))

        let failures = try await failuresAfterDisconnect(of: 5, through: connection, server: server)

        #expect(failures.count == 5 && failures.allSatisfy { $0?.code == .unavailable })
        #expect(await status { try await connection.ping() }?.code == .unavailable)
        await server.stop()
    }

    @Test("a refused connection is UNAVAILABLE and names the address")
    func connectionRefused() async throws {
        let port = try await FakeServer.closedPort()

        let failure = await status {
            try await PorticoConnection.connect(configuration: ClientConfiguration(port: port))
        }

        #expect(failure?.code == .unavailable)
        #expect(failure?.message.contains("127.0.0.1:\(port)") == true)
    }
}
