import Foundation
import NIOCore
import PorticoWire
import Testing

/// The worked examples of docs/protocol.md are exactly what Portico sends and reads.
@Suite("docs/protocol.md examples")
struct ProtocolDocTests {
    /// The hex blocks of the page, by the name in their `<!-- example: NAME -->` marker.
    static func examples() throws -> [String: [UInt8]] {
        let page = try String(contentsOf: Repository.root.appendingPathComponent("docs/protocol.md"), encoding: .utf8)
        var result: [String: [UInt8]] = [:]
        var name: String?
        var hex: String?
        for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("<!-- example: ") {
                name = String(line.dropFirst("<!-- example: ".count).dropLast(" -->".count))
            } else if line == "```hex", name != nil {
                hex = ""
            } else if line == "```", let block = hex, let current = name {
                result[current] = bytes(hex: block)
                name = nil
                hex = nil
            } else if hex != nil {
                hex! += line
            }
        }
        return result
    }

    static func encoded(_ header: FrameHeader, _ body: some WireMessage) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try Frame.write(header: header, message: body, into: &buffer, arena: WireArena())
        return Array(buffer.readableBytesView)
    }

    static var expected: [String: [UInt8]] {
        get throws {
            [
                "preface": WirePreface.bytes,
                "ping-request": try encoded(.request(callID: 1, method: .ping), PingRequest()),
                "ping-response": try encoded(.response(callID: 1), PingResponse()),
                "check-request": try encoded(
                    .request(callID: 2, method: .checkPermission, credential: "psk_3_k9", timeoutMicros: 250_000),
                    CheckPermissionRequest(assetID: 42, task: .analyze, subject: .personID(7))
                ),
                "check-response": try encoded(
                    .response(callID: 2),
                    CheckPermissionResponse(allowed: true, reason: .assigned, revision: 19)
                ),
                "failed-response": try encoded(
                    FrameHeader(
                        kind: .response,
                        callID: 3,
                        statusCode: .permissionDenied,
                        statusMessage: "denied",
                        errorDetail: ErrorDetail(reason: "NOT_ALLOWED", metaCode: 200)
                    ),
                    PingResponse()
                ),
            ]
        }
    }

    @Test("every example's bytes are Portico's encoding of the frame it describes")
    func examplesMatch() throws {
        let documented = try Self.examples()
        let expected = try Self.expected
        #expect(Set(documented.keys) == Set(expected.keys))
        for (name, bytes) in expected {
            #expect(documented[name] == bytes, "\(name): Portico sends \(ByteBuffer(bytes: bytes).hex)")
        }
    }

    @Test("the documented request bytes decode into the documented call")
    func examplesDecode() throws {
        let documented = try Self.examples()
        var decoder = FrameDecoder(expectPreface: true)
        var buffer = ByteBuffer(bytes: documented["preface"]! + documented["check-request"]!)
        let frame = try #require(try decoder.nextFrame(from: &buffer))
        #expect(frame.header.knownMethod == .checkPermission)
        #expect(frame.header.credential == "psk_3_k9")
        #expect(frame.header.timeoutMicros == 250_000)
        let request = try CheckPermissionRequest(decoding: frame.body, arena: WireArena())
        #expect(request.subject == .personID(7) && request.assetID == 42 && request.task == .analyze)
    }
}
