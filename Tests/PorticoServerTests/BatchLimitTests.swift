import NIOCore
import PorticoReasons
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// A batch over the server's limit is refused from a count of its items, taken before the body is
/// decoded: the bytes after the limit are never unpacked, however many or however bad.
@Suite("Batch limit")
struct BatchLimitTests {
    /// A preface and one BatchCheckPermissions request frame whose body is `body`, as it is.
    static func batchFrame(callID: UInt64, credential: String, body: [UInt8]) throws -> [UInt8] {
        var header = FrameHeader.request(callID: callID, method: .batchCheckPermissions, credential: credential)
        header.method = UInt32(Method.batchCheckPermissions.rawValue)
        var buffer = ByteBuffer()
        try Frame(header: header, body: ByteBuffer(bytes: body)).write(into: &buffer, arena: WireArena())
        return Array(buffer.readableBytesView)
    }

    /// `count` checks of a person, each as its own field 1.
    static func items(_ count: Int) throws -> [UInt8] {
        let check = CheckItem(assetID: 7, task: .analyze, subject: .personID(9))
        let item = try BatchCheckPermissionsRequest(checks: [check]).encoded()
        return Array([[UInt8]](repeating: item, count: count).joined())
    }

    @Test("1,001 checks are refused by count, though a later item would not even decode; 1,000 are answered")
    func limit() async throws {
        try await TestServer.with { server in
            let limit = ServerConfiguration().maxBatchChecks
            // An item whose token is not UTF-8 (field 1 { token (3): FF }): decoding would say INVALID_UTF8.
            let bad: [UInt8] = [0x0A, 0x03, 0x1A, 0x01, 0xFF]
            let maxFrame = Frame.defaultMaxBytes - 256
            let tokens = Array([[UInt8]](repeating: [0x0A, 0x03, 0x1A, 0x01, 0x61], count: maxFrame / 5).joined())
            let bytes =
                try WirePreface.bytes
                + Self.batchFrame(callID: 1, credential: server.operatorKey, body: Self.items(limit + 1) + bad)
                + Self.batchFrame(callID: 2, credential: server.operatorKey, body: tokens)
                + Self.batchFrame(callID: 3, credential: server.operatorKey, body: Self.items(limit))
                + Self.batchFrame(callID: 4, credential: server.operatorKey, body: Self.items(2) + bad)
            let (received, _) = try await RawConnection.connect(port: server.port).exchange(bytes, limit: .seconds(60))
            {
                ((try? frames(in: $0).count) ?? 0) >= 4
            }
            let answers = Dictionary(uniqueKeysWithValues: try frames(in: received).map { ($0.header.callID, $0) })
            #expect(answers.count == 4)
            for call: UInt64 in [1, 2] {
                let header = try #require(answers[call]).header
                #expect(header.statusCode == .invalidArgument)
                #expect(header.errorDetail?.field == "checks", "\(header)")
                #expect(header.statusMessage.contains("at most \(limit) checks"), "\(header.statusMessage)")
            }
            let whole = try #require(answers[3])
            #expect(whole.header.statusCode == .ok)
            #expect(try BatchCheckPermissionsResponse(decoding: whole.body, arena: WireArena()).results.count == limit)
            // Under the limit, the bad item is found by the decoder.
            let small = try #require(answers[4]).header
            #expect(small.statusCode == .invalidArgument)
            #expect(small.errorDetail?.reason == ErrorReason.invalidUTF8.rawValue, "\(small)")
        }
    }
}
