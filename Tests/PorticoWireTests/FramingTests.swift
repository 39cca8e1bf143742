import NIOCore
import NIOEmbedded
import NIOTestUtils
import PorticoReasons
import PorticoWire
import Testing

@Suite("Framing")
struct FramingTests {
    static func frame(_ header: FrameHeader, _ message: some WireMessage) throws -> Frame {
        var body = ByteBuffer()
        try message.encode(into: &body, arena: WireArena())
        return Frame(header: header, body: body)
    }

    static func wire(_ frames: [Frame], preface: Bool = false) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        if preface { buffer.writeBytes(WirePreface.bytes) }
        for frame in frames { try frame.write(into: &buffer, arena: WireArena()) }
        return buffer
    }

    static var sampleFrames: [Frame] {
        get throws {
            [
                try frame(.request(callID: 1, method: .ping), PingRequest()),
                try frame(
                    .request(callID: 2, method: .checkPermission, credential: "psk_1_abc", timeoutMicros: 250_000),
                    CheckPermissionRequest(assetID: 42, task: .analyze, subject: .personID(7))
                ),
                try frame(
                    .response(callID: 2), CheckPermissionResponse(allowed: true, reason: .assigned, revision: 19)),
                Frame(
                    header: .failure(
                        callID: 3, WireError(code: .permissionDenied, reason: .permissionDenied, message: "no"))),
                Frame(header: .goAway(lastCallID: 3, message: "shutting down")),
                Frame(header: FrameHeader()),
            ]
        }
    }

    @Test("a response written directly has the bytes of one written through protobuf-c")
    func directResponseHeader() throws {
        let arena = WireArena()
        let message = CheckPermissionResponse(allowed: true, reason: .assigned, revision: 42)
        for callID: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 32, UInt64.max] {
            var direct = ByteBuffer()
            try Frame.writeResponse(callID: callID, message: message, into: &direct, arena: arena)
            var generic = ByteBuffer()
            try Frame.write(header: .response(callID: callID), message: message, into: &generic, arena: arena)
            #expect(direct == generic, "call id \(callID)")
            var decoder = FrameDecoder(expectPreface: false)
            let frame = try #require(try decoder.nextFrame(from: &direct))
            #expect(frame.header == .response(callID: callID))
            #expect(try CheckPermissionResponse(decoding: frame.body, arena: arena) == message)
            // Appended behind bytes already there and partly read, the frame is the same.
            var behind = ByteBuffer(bytes: [9, 9, 9, 9, 9])
            behind.moveReaderIndex(forwardBy: 3)
            try Frame.writeResponse(callID: callID, message: message, into: &behind, arena: arena)
            #expect(behind.readBytes(length: 2) == [9, 9])
            #expect(behind == generic, "call id \(callID) behind other bytes")
        }
        // The longest header (a 10-byte call id) into a buffer with exactly 20 bytes to spare: it grows.
        var tight = ByteBufferAllocator().buffer(capacity: 64)
        tight.writeBytes(Array(repeating: UInt8(7), count: tight.capacity - 20))
        #expect(tight.writableBytes == 20)
        let before = tight.readableBytes
        try Frame.writeResponse(callID: UInt64.max, message: message, into: &tight, arena: arena)
        var longest = ByteBuffer()
        try Frame.write(header: .response(callID: UInt64.max), message: message, into: &longest, arena: arena)
        #expect(tight.getSlice(at: before, length: tight.readableBytes - before) == longest)
        // Too large for the limit: refused, and the buffer is left as it was.
        var small = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: WireError.self) {
            try Frame.writeResponse(callID: 9, message: message, into: &small, arena: arena, maxBytes: 12)
        }
        #expect(small == ByteBuffer(bytes: [1, 2, 3]))
    }

    @Test("any split of the bytes gives the same frames (ByteToMessageDecoderVerifier)")
    func verifier() throws {
        let frames = try Self.sampleFrames
        var pairs = frames.map { (try! Self.wire([$0]), [$0]) }
        pairs.append((try Self.wire(frames), frames))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            FrameDecoder(expectPreface: false)
        }
    }

    private static func serverChannel(maxFrameBytes: Int = Frame.defaultMaxBytes) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes, expectPreface: true))
        )
        return channel
    }

    private static func expectWireError(
        _ code: StatusCode,
        _ reason: String,
        _ body: () throws -> Void
    ) {
        do {
            try body()
            Issue.record("expected \(reason)")
        } catch let error as WireError {
            #expect(error.code == code)
            #expect(error.reason == reason, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a server connection opens with the preface, split anywhere")
    func preface() throws {
        let channel = try Self.serverChannel()
        let bytes = Array(try Self.wire(try Self.sampleFrames, preface: true).readableBytesView)
        for chunk in stride(from: 0, to: bytes.count, by: 3) {
            try channel.writeInbound(ByteBuffer(bytes: Array(bytes[chunk..<min(chunk + 3, bytes.count)])))
        }
        for expected in try Self.sampleFrames {
            #expect(try channel.readInbound(as: Frame.self) == expected)
        }
        #expect(try channel.finish().isClean)
    }

    @Test("an HTTP request, or any garbage, fails at the first byte that differs from the preface")
    func badPreface() throws {
        for garbage in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "PORTICX", "\u{16}\u{03}\u{01}", "\u{0}\u{0}\u{0}\u{8}"] {
            let channel = try Self.serverChannel()
            Self.expectWireError(.invalidArgument, "BAD_PREFACE") {
                try channel.writeInbound(ByteBuffer(string: garbage))
            }
            _ = try? channel.finish()
        }
        // A correct start of the preface waits for the rest.
        let channel = try Self.serverChannel()
        try channel.writeInbound(ByteBuffer(string: "PORT"))
        #expect(try channel.readInbound(as: Frame.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: Array("ICO".utf8) + [WirePreface.version]))
        try channel.writeInbound(try Self.wire([Frame(header: .request(callID: 1, method: .ping))]))
        #expect(try channel.readInbound(as: Frame.self)?.header.callID == 1)
    }

    @Test("another protocol version is UNIMPLEMENTED")
    func otherVersion() throws {
        let channel = try Self.serverChannel()
        Self.expectWireError(.unimplemented, "UNSUPPORTED_PROTOCOL_VERSION") {
            try channel.writeInbound(ByteBuffer(bytes: WirePreface.magic + [2]))
        }
        _ = try? channel.finish()
    }

    @Test("a 4 GiB length prefix is RESOURCE_EXHAUSTED at its first four bytes, before any buffering")
    func hugeLength() throws {
        let channel = try Self.serverChannel()
        Self.expectWireError(.resourceExhausted, "FRAME_TOO_LARGE") {
            try channel.writeInbound(ByteBuffer(bytes: WirePreface.bytes + [0xFF, 0xFF, 0xFF, 0xFF]))
        }
        _ = try? channel.finish()
    }

    @Test("a frame just over a configured limit is refused; one at the limit passes")
    func limit() throws {
        let request = try Self.frame(
            .request(callID: 9, method: .addPerson), AddPersonRequest(name: String(repeating: "n", count: 100)))
        let size = try Self.wire([request]).readableBytes
        let atLimit = try Self.serverChannel(maxFrameBytes: size)
        try atLimit.writeInbound(ByteBuffer(bytes: WirePreface.bytes))
        try atLimit.writeInbound(try Self.wire([request]))
        #expect(try atLimit.readInbound(as: Frame.self) == request)
        let belowLimit = try Self.serverChannel(maxFrameBytes: size - 1)
        Self.expectWireError(.resourceExhausted, "FRAME_TOO_LARGE") {
            try belowLimit.writeInbound(
                ByteBuffer(bytes: WirePreface.bytes + Array(try Self.wire([request]).readableBytesView)))
        }
        _ = try? belowLimit.finish()
    }

    @Test(
        "malformed frames are INVALID_ARGUMENT",
        arguments: [
            ("MALFORMED_FRAME", [0, 0, 0, 3, 1, 2, 3]),  // no room for the header length
            ("MALFORMED_FRAME", [0, 0, 0, 5, 0, 0, 0, 9, 0]),  // header longer than the frame
            ("MALFORMED_HEADER", [0, 0, 0, 7, 0, 0, 0, 3, 0x08, 0xFF, 0xFF]),  // header varint cut short
            ("MALFORMED_HEADER", [0, 0, 0, 6, 0, 0, 0, 2, 0x08, 0x63]),  // frame kind 99
        ] as [(String, [UInt8])])
    func malformed(_ reason: String, _ bytes: [UInt8]) throws {
        let channel = try Self.serverChannel()
        Self.expectWireError(.invalidArgument, reason) {
            try channel.writeInbound(ByteBuffer(bytes: WirePreface.bytes + bytes))
        }
        _ = try? channel.finish()
    }

    @Test("a connection that closes mid-frame reports a truncated frame")
    func truncated() throws {
        let channel = try Self.serverChannel()
        var bytes = Array(try Self.wire(try Self.sampleFrames, preface: true).readableBytesView)
        bytes.removeLast(3)
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        for expected in try Self.sampleFrames.dropLast(2) {
            #expect(try channel.readInbound(as: Frame.self) == expected)
        }
        Self.expectWireError(.invalidArgument, "TRUNCATED_FRAME") {
            _ = try channel.finish()
        }
    }

    @Test("an unknown method number decodes, so that only its call fails (UNIMPLEMENTED)")
    func unknownMethod() throws {
        var header = FrameHeader.request(callID: 5, method: .ping)
        header.method = 9_999
        let frame = Frame(header: header)
        let channel = try Self.serverChannel()
        try channel.writeInbound(ByteBuffer(bytes: WirePreface.bytes))
        try channel.writeInbound(try Self.wire([frame]))
        let decoded = try #require(try channel.readInbound(as: Frame.self))
        #expect(decoded.header.method == 9_999)
        #expect(decoded.header.knownMethod == nil)
        #expect(FrameHeader.request(callID: 1, method: .checkPermission).knownMethod == .checkPermission)
    }

    @Test("the encoder refuses a frame over the limit and leaves the buffer as it was")
    func encoderLimit() throws {
        let big = try Self.frame(
            .response(callID: 1), ListPeopleResponse(people: Array(repeating: Person(name: "x"), count: 100)))
        var buffer = ByteBuffer(string: "kept")
        Self.expectWireError(.resourceExhausted, "FRAME_TOO_LARGE") {
            try big.write(into: &buffer, arena: WireArena(), maxBytes: 64)
        }
        #expect(buffer == ByteBuffer(string: "kept"))

        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder(maxFrameBytes: 64)))
        #expect(throws: WireError.self) { try channel.writeOutbound(big) }
        _ = try? channel.finish()
    }

    @Test("many calls in flight on one connection: answers in any order are matched by call id")
    func multiplexing() throws {
        let callCount = 500
        // Client side: requests with distinct ids go out back to back.
        let requests = try (1...callCount).map { id in
            try Self.frame(
                .request(callID: UInt64(id), method: .checkPermission),
                CheckPermissionRequest(assetID: UInt64(id) * 10, task: .manage, subject: .systemUserID(1)))
        }
        let server = try Self.serverChannel()
        try server.writeInbound(try Self.wire(requests, preface: true))
        var received: [Frame] = []
        while let frame = try server.readInbound(as: Frame.self) { received.append(frame) }
        #expect(received.count == callCount)

        // Server side: answers in a scrambled order, each derived from its own request.
        var generator = SplitMix64(seed: 42)
        let arena = WireArena()
        let answers = try received.shuffled(using: &generator).map { frame in
            let request = try CheckPermissionRequest(decoding: frame.body, arena: arena)
            let response = CheckPermissionResponse(
                allowed: request.assetID % 20 == 0, reason: .assigned, revision: request.assetID)
            return try Self.frame(.response(callID: frame.header.callID), response)
        }
        let client = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(expectPreface: false)))
        try client.writeInbound(try Self.wire(answers))
        var matched: [UInt64: CheckPermissionResponse] = [:]
        while let frame = try client.readInbound(as: Frame.self) {
            #expect(matched[frame.header.callID] == nil, "call \(frame.header.callID) answered twice")
            matched[frame.header.callID] = try CheckPermissionResponse(decoding: frame.body, arena: arena)
        }
        #expect(matched.count == callCount)
        for id in 1...UInt64(callCount) {
            #expect(matched[id]?.revision == id * 10)
            #expect(matched[id]?.allowed == (id % 2 == 0))
        }
        #expect(try client.finish().isClean)
    }
}
