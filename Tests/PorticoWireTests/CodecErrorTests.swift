import NIOCore
import PorticoWire
import Testing

/// Bad bytes and bad values get a typed error, never a crash, and never a silently altered value.
@Suite("Codec errors")
struct CodecErrorTests {
    private static func expectInvalid(_ reason: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(reason)")
        } catch let error as WireError {
            #expect(error.code == .invalidArgument)
            #expect(error.reason == reason, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("an enum value the proto does not define is INVALID_ARGUMENT")
    func unknownEnumValue() {
        // field 5 (task), varint 99.
        Self.expectInvalid("UNKNOWN_ENUM_VALUE") {
            _ = try CheckPermissionRequest(decoding: [0x28, 99])
        }
        // A negative enum value is ten bytes on the wire.
        Self.expectInvalid("UNKNOWN_ENUM_VALUE") {
            _ = try CheckPermissionRequest(decoding: [0x28, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        }
        // Inside a repeated field of a nested message.
        Self.expectInvalid("UNKNOWN_ENUM_VALUE") {
            // AssignTasksResponse.assignment (1) { tasks (3): [1, 77] }
            _ = try AssignTasksResponse(decoding: [0x0A, 0x04, 0x18, 0x01, 0x18, 77])
        }
    }

    @Test(
        "one arena decoding string after string: a repeated string reused, any other its own, bad bytes still fail"
    )
    func recentStrings() throws {
        let arena = WireArena()
        func header(_ credential: [UInt8]) -> ByteBuffer {
            // FrameHeader.credential (4), a length-delimited string.
            ByteBuffer(bytes: [0x22, UInt8(credential.count)] + credential)
        }
        let first = Array("psk_7_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8)
        var second = first
        second[second.count - 1] = UInt8(ascii: "b")
        #expect(
            try FrameHeader(decoding: header(first), arena: arena).credential == String(decoding: first, as: UTF8.self))
        #expect(
            try FrameHeader(decoding: header(first), arena: arena).credential == String(decoding: first, as: UTF8.self))
        // Same length, one byte apart: not mistaken for the string before it.
        #expect(
            try FrameHeader(decoding: header(second), arena: arena).credential
                == String(decoding: second, as: UTF8.self))
        #expect(
            try FrameHeader(decoding: header(Array(first.prefix(30))), arena: arena).credential
                == String(decoding: first.prefix(30), as: UTF8.self))
        #expect(
            try FrameHeader(decoding: header(first), arena: arena).credential == String(decoding: first, as: UTF8.self))
        // Invalid UTF-8 right after a valid string of the same length still fails.
        var invalid = first
        invalid[10] = 0xFF
        Self.expectInvalid("INVALID_UTF8") { _ = try FrameHeader(decoding: header(invalid), arena: arena) }
        var withNUL = first
        withNUL[10] = 0
        Self.expectInvalid("NUL_IN_STRING") { _ = try FrameHeader(decoding: header(withNUL), arena: arena) }
        // Another field's string is never taken for this one's.
        let message = try FrameHeader(
            decoding: ByteBuffer(bytes: [0x22, UInt8(first.count)] + first + [0x42, UInt8(second.count)] + second),
            arena: arena)
        #expect(message.credential == String(decoding: first, as: UTF8.self))
        #expect(message.statusMessage == String(decoding: second, as: UTF8.self))
    }

    @Test("strings of every length up to 24, with a non-ASCII character or a bad byte at every place")
    func stringsEveryWhere() throws {
        let arena = WireArena()
        for length in 0...24 {
            let ascii = Array(repeating: UInt8(ascii: "a"), count: length)
            #expect(
                try FrameHeader(decoding: ByteBuffer(bytes: [0x22, UInt8(length)] + ascii), arena: arena).credential
                    == String(repeating: "a", count: length))
            for place in 0..<length {
                // "é" (C3 A9) in place of one "a": valid, and kept as it is.
                var accented = ascii
                accented.replaceSubrange(place...place, with: [0xC3, 0xA9])
                let decoded = try FrameHeader(
                    decoding: ByteBuffer(bytes: [0x22, UInt8(accented.count)] + accented), arena: arena)
                #expect(Array(decoded.credential.utf8) == accented)
                // A lone continuation byte: not UTF-8, wherever it is.
                var bad = ascii
                bad[place] = 0xA9
                Self.expectInvalid("INVALID_UTF8") {
                    _ = try FrameHeader(decoding: ByteBuffer(bytes: [0x22, UInt8(bad.count)] + bad), arena: arena)
                }
            }
        }
    }

    @Test("a string that is not UTF-8 is INVALID_ARGUMENT")
    func invalidUTF8() {
        // CheckPermissionRequest.token (3) = "a\xFFb"
        Self.expectInvalid("INVALID_UTF8") {
            _ = try CheckPermissionRequest(decoding: [0x1A, 0x03, 0x61, 0xFF, 0x62])
        }
        // An overlong encoding of "/" is not UTF-8 either.
        Self.expectInvalid("INVALID_UTF8") {
            _ = try AddPersonRequest(decoding: [0x12, 0x02, 0xC0, 0xAF])
        }
    }

    @Test("a string with an embedded NUL is refused both ways, never cut short")
    func embeddedNUL() {
        // AddPersonRequest.name (2) = "ab\0cd"
        Self.expectInvalid("NUL_IN_STRING") {
            _ = try AddPersonRequest(decoding: [0x12, 0x05, 0x61, 0x62, 0x00, 0x63, 0x64])
        }
        // A NUL as first byte: not to be mistaken for an empty string.
        Self.expectInvalid("NUL_IN_STRING") {
            _ = try AddPersonRequest(decoding: [0x12, 0x02, 0x00, 0x61])
        }
        // In a repeated string field... none exists; in a nested message's string instead.
        Self.expectInvalid("NUL_IN_STRING") {
            // GetServerInfoResponse.version (1) = "1\0"
            _ = try GetServerInfoResponse(decoding: [0x0A, 0x02, 0x31, 0x00])
        }
        Self.expectInvalid("NUL_IN_STRING") {
            _ = try AddPersonRequest(name: "ab\u{0}cd").encoded()
        }
        Self.expectInvalid("NUL_IN_STRING") {
            _ = try ListPeopleResponse(people: [Person(name: "ok"), Person(name: "x\u{0}")]).encoded()
        }
    }

    @Test(
        "bytes protobuf-c cannot unpack are INVALID_ARGUMENT",
        arguments: [
            [0x08],  // a tag without its varint
            [0x08, 0xFF, 0xFF],  // a varint cut short
            [0x0A, 0x05, 0x01],  // a length beyond the end
            [0x0F],  // wire type 7 does not exist
            [0x1A, 0x80, 0x80, 0x80, 0x80, 0x10],  // a 4 GiB string length
            [0x22, 0x02, 0x08],  // field 4 (asset_id, a varint) sent as bytes, cut short
        ] as [[UInt8]])
    func malformed(_ bytes: [UInt8]) {
        Self.expectInvalid("MALFORMED_MESSAGE") {
            _ = try CheckPermissionRequest(decoding: bytes)
        }
    }

    @Test("garbage never crashes the decoder of any message type")
    func garbage() {
        var generator = SplitMix64(seed: 0x5EED)
        let arena = WireArena()
        for round in 0..<2_000 {
            let count = Int(generator.next() % 64)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let type = PorticoMessages.all[round % PorticoMessages.all.count]
            do {
                _ = try Self.decode(type, bytes, arena)
            } catch let error as WireError {
                #expect(error.code == .invalidArgument)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    private static func decode<M: WireMessage>(_ type: M.Type, _ bytes: [UInt8], _ arena: WireArena) throws -> M {
        try bytes.withUnsafeBytes { try M(decoding: $0, arena: arena) }
    }

    @Test("one arena serves many messages, small and larger than its chunk")
    func arenaReuse() throws {
        let arena = WireArena(chunkBytes: 256)
        let people = (0..<200).map { Person(id: UInt64($0), portfolioID: 9, name: "person \($0) ☕", role: .employee) }
        let list = ListPeopleResponse(people: people, nextPageToken: "next")
        for _ in 0..<50 {
            var buffer = ByteBuffer()
            try list.encode(into: &buffer, arena: arena)
            #expect(try ListPeopleResponse(decoding: buffer, arena: arena) == list)
            let small = CheckPermissionResponse(allowed: true, reason: .assigned, revision: 3)
            var smallBuffer = ByteBuffer()
            try small.encode(into: &smallBuffer, arena: arena)
            #expect(try CheckPermissionResponse(decoding: smallBuffer, arena: arena) == small)
        }
    }

    @Test("unknown fields from a newer peer are skipped")
    func unknownFields() throws {
        // asset_id = 5, then field 99 (varint 1), then field 100 (bytes "zz").
        let bytes: [UInt8] = [0x20, 0x05, 0x98, 0x06, 0x01, 0xA2, 0x06, 0x02, 0x7A, 0x7A]
        #expect(try CheckPermissionRequest(decoding: bytes) == CheckPermissionRequest(assetID: 5))
    }
}

/// A small deterministic generator for reproducible random inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
