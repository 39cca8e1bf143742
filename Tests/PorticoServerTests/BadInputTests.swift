import NIOCore
import PorticoClient
import PorticoCore
import PorticoReasons
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Synchronization
import Testing

/// Bad input on a live server: each bad connection gets its status or is closed cleanly, and a
/// well-behaved client on another connection keeps getting correct answers throughout.
@Suite("Bad input on a live server")
struct BadInputTests {
    @Test("frames split anywhere across reads, the preface too, are each answered once")
    func splitFrames() async throws {
        // This test is about splits, not slow senders: a frame timeout far above the default keeps a loaded
        // machine, which may hold the sending task for seconds between pieces, from cutting a frame short.
        try await TestServer.with(configuration: ServerConfiguration(frameTimeout: .seconds(120))) { server in
            var random = SystemRandomNumberGenerator()
            // First a read that ends 2 bytes into a frame's length, then one with the rest of it and two
            // whole frames: all three are answered without waiting for more bytes.
            let three = try (1...3).flatMap { call in
                try requestBytes(callID: UInt64(call), method: UInt32(Method.ping.rawValue), body: PingRequest())
            }
            let first = try await RawConnection.connect(port: server.port).exchange(
                WirePreface.bytes + three, inPieces: [10, three.count], pause: .milliseconds(200), limit: .seconds(5)
            ) {
                ((try? frames(in: $0).count) ?? 0) >= 3
            }
            #expect(try frames(in: first).map(\.header.callID) == [1, 2, 3])
            // A large frame (a batch of 500 checks) between two pings, arriving 100 bytes at a time.
            let batch = BatchCheckPermissionsRequest(
                checks: (1...500).map { CheckItem(assetID: UInt64($0), task: .analyze, subject: .personID(UInt64($0))) }
            )
            let large =
                try requestBytes(callID: 1, method: UInt32(Method.ping.rawValue), body: PingRequest())
                + requestBytes(
                    callID: 2, method: UInt32(Method.batchCheckPermissions.rawValue), credential: server.operatorKey,
                    body: batch)
                + requestBytes(callID: 3, method: UInt32(Method.ping.rawValue), body: PingRequest())
            #expect(large.count > 4000)
            let pieces = Array(repeating: 100, count: large.count / 100 + 10)
            let answered = try await RawConnection.connect(port: server.port).exchange(
                WirePreface.bytes + large, inPieces: pieces, limit: .seconds(10)
            ) {
                ((try? frames(in: $0).count) ?? 0) >= 3
            }
            let answers = try frames(in: answered)
            #expect(answers.map(\.header.callID) == [1, 2, 3])
            #expect(answers.allSatisfy { $0.header.statusCode == .ok })
            #expect(
                try BatchCheckPermissionsResponse(decoding: answers[1].body, arena: WireArena()).results.count == 500)
            for round in 0..<3 {
                // Pings and checks of different sizes back to back, cut at random places (1 to 40 bytes).
                var bytes = WirePreface.bytes
                let calls = 30
                for call in 1...calls {
                    if call % 2 == 0 {
                        bytes += try requestBytes(
                            callID: UInt64(call), method: UInt32(Method.ping.rawValue), body: PingRequest())
                    } else {
                        let check = CheckPermissionRequest(
                            assetID: UInt64(call), task: .analyze,
                            subject: .token("ptk_\(call)_" + String(repeating: "x", count: call)))
                        bytes += try requestBytes(
                            callID: UInt64(call), method: UInt32(Method.checkPermission.rawValue),
                            credential: server.operatorKey, body: check)
                    }
                }
                let sizes = (0..<bytes.count).map { _ in Int.random(in: round == 0 ? 1...3 : 1...40, using: &random) }
                let received = try await RawConnection.connect(port: server.port).exchange(bytes, inPieces: sizes) {
                    received in
                    ((try? frames(in: received).count) ?? 0) >= calls
                }
                let answers = try frames(in: received)
                #expect(answers.map(\.header.callID).sorted() == (1...calls).map { UInt64($0) }, "round \(round)")
                #expect(
                    answers.allSatisfy { $0.header.kind == .response && $0.header.statusCode == .ok }, "round \(round)")
            }
        }
    }

    /// The kinds of bad input, each sent on its own server while a well-behaved client checks away.
    enum BadInput: String, CaseIterable, CustomTestStringConvertible {
        case garbage, http, hugeLengthPrefix, truncatedFrame, unknownMethod, badCredentials, connectionStorm

        var testDescription: String { self.rawValue }
    }

    @Test(
        "bad input gets its status or a clean close, and another client's answers stay right",
        arguments: BadInput.allCases)
    func badInput(_ input: BadInput) async throws {
        try await TestServer.with(configuration: ServerConfiguration(maxConnections: 2_000)) { server in
            let client = server.client()
            let fixture = try await ServerFixture.build(client)
            let stop = ManagedAtomicFlag()
            let watcher = Self.watch(client, fixture, until: stop)
            try await Self.send(input, to: server, client, fixture)
            stop.set()
            #expect(try await watcher.value > 0)
        }
    }

    /// The well-behaved client: checks with known answers, in a loop that stops when told.
    private static func watch(_ client: PorticoClient, _ fixture: ServerFixture, until stop: ManagedAtomicFlag) -> Task<
        Int, any Error
    > {
        Task {
            var answered = 0
            while !stop.isSet && answered < 100_000 {
                let allowed = try await client.checkPermission(
                    .init(assetID: fixture.adAccount, task: .analyze, subject: .systemUserID(fixture.worker))
                )
                let denied = try await client.checkPermission(
                    .init(assetID: fixture.adAccount, task: .manage, subject: .systemUserID(fixture.worker))
                )
                guard allowed.allowed, !denied.allowed, denied.reason == .taskNotGranted else {
                    throw PorticoStatusError(code: .internal, message: "wrong answer during bad input")
                }
                answered += 2
            }
            return answered
        }
    }

    private static func send(
        _ input: BadInput, to server: TestServer, _ client: PorticoClient, _ fixture: ServerFixture
    ) async throws {
        switch input {
        case .garbage, .http:
            // GOAWAY with INVALID_ARGUMENT, then closed.
            let bytes: [UInt8] =
                input == .http
                ? Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8) : [0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2, 3]
            let (reply, closed) = try await RawConnection.connect(port: server.port).exchange(bytes)
            #expect(closed)
            let goAway = try #require(try frames(in: reply).first)
            #expect(goAway.header.kind == .goaway && goAway.header.statusCode == .invalidArgument)
            #expect(goAway.header.errorDetail?.reason == ErrorReason.badPreface.rawValue)
        case .hugeLengthPrefix:
            // A 4 GiB length prefix: RESOURCE_EXHAUSTED at once, nothing buffered.
            let (reply, closed) = try await RawConnection.connect(port: server.port)
                .exchange(WirePreface.bytes + [0xFF, 0xFF, 0xFF, 0xFF])
            #expect(closed)
            let goAway = try #require(try frames(in: reply).first)
            #expect(goAway.header.statusCode == .resourceExhausted)
            #expect(goAway.header.errorDetail?.reason == ErrorReason.frameTooLarge.rawValue)
        case .truncatedFrame:
            // A truncated frame, then the client closes its side: the server closes cleanly, answering nothing.
            let ping = try requestBytes(callID: 1, method: UInt32(Method.ping.rawValue), body: PingRequest())
            let (reply, closed) = try await RawConnection.connect(port: server.port)
                .exchange(WirePreface.bytes + ping.dropLast(3), halfClose: true)
            #expect(closed)
            #expect(try frames(in: reply).allSatisfy { $0.header.kind == .goaway })
        case .unknownMethod:
            // UNIMPLEMENTED for that call; the next call on the same connection works.
            let unknown = try requestBytes(callID: 1, method: 9_999, body: PingRequest())
            let ping = try requestBytes(callID: 2, method: UInt32(Method.ping.rawValue), body: PingRequest())
            let (reply, closed) = try await RawConnection.connect(port: server.port)
                .exchange(WirePreface.bytes + unknown + ping) { received in
                    ((try? frames(in: received).count) ?? 0) >= 2
                }
            #expect(!closed)
            let answers = try frames(in: reply)
            #expect(answers.count == 2)
            #expect(answers.first { $0.header.callID == 1 }?.header.statusCode == .unimplemented)
            #expect(answers.first { $0.header.callID == 2 }?.header.statusCode == .ok)
        case .badCredentials:
            // A check without credential, with a garbage credential, with a revoked and an expired token.
            let check = CheckPermissionRequest(
                assetID: fixture.adAccount, task: .analyze, subject: .systemUserID(fixture.worker))
            await expectStatus(.unauthenticated, reason: "MISSING_CREDENTIAL") {
                try await client.checkPermission(check, options: CallOptions(credential: ""))
            }
            await expectStatus(.unauthenticated) {
                try await client.checkPermission(check, options: CallOptions(credential: "ptk_1_nonsense"))
            }
            let revoked = try await client.generateToken(
                .init(systemUserID: fixture.worker, appID: fixture.app, scopes: [.adsRead]))
            _ = try await client.revokeToken(.init(tokenID: revoked.token!.id))
            await expectStatus(.unauthenticated) {
                try await client.checkPermission(check, options: CallOptions(credential: revoked.secret))
            }
            let expiring = try await client.generateToken(
                .init(systemUserID: fixture.worker, appID: fixture.app, scopes: [.adsRead], expiry: .sixtyDays)
            )
            #expect(try await client.checkPermission(check, options: CallOptions(credential: expiring.secret)).allowed)
            server.clock.advance(days: 61)
            await expectStatus(.unauthenticated) {
                try await client.checkPermission(check, options: CallOptions(credential: expiring.secret))
            }
        case .connectionStorm:
            // 1,000 connections opened and dropped; every one is gone from the server's count (the
            // client's own stays), within a bounded wait.
            for _ in 0..<1_000 {
                let connection = try await RawConnection.connect(port: server.port)
                try await connection.channel.channel.close()
            }
            var waited = 0
            while server.server.connectionCount > 1 && waited < 500 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            #expect(server.server.connectionCount <= 1)
        }
    }
}
