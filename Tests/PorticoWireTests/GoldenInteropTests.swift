import Foundation
import NIOCore
import PorticoWire
import Testing

/// Portico's protobuf-c encoding against the reference implementation, for every message type.
@Suite("Interoperability with protoc, every message type")
struct GoldenInteropTests {
    /// The golden samples of a message: the base name of each .binpb/.txtpb pair.
    private static func samples(of name: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: Repository.golden.path)
            .filter { $0.hasSuffix(".binpb") && ($0 == name + ".binpb" || $0.hasPrefix(name + "@")) }
            .map { String($0.dropLast(".binpb".count)) }
            .sorted()
    }

    private static func golden(_ sample: String, _ ext: String) throws -> Data {
        try Data(contentsOf: Repository.golden.appendingPathComponent(sample + "." + ext))
    }

    @Test("bytes protoc encoded decode in Portico and encode back to the same bytes", arguments: MessageType.all)
    func decodesReferenceBytes(_ message: MessageType) throws {
        try Self.check(message.type)
    }

    private static func check<M: WireMessage>(_ type: M.Type) throws {
        let samples = try samples(of: M.protoName)
        try #require(!samples.isEmpty, "no golden sample for \(M.protoName): run proto/generate.sh")
        let arena = WireArena()
        for sample in samples {
            let reference = Array(try golden(sample, "binpb"))
            let decoded = try M(decoding: ByteBuffer(bytes: reference), arena: arena)
            var encoded = ByteBuffer()
            try decoded.encode(into: &encoded, arena: arena)
            #expect(Array(encoded.readableBytesView) == reference, "\(sample): re-encoded bytes differ")
            if !reference.isEmpty {
                // Every field of the sample is set, so nothing may have been lost on the way.
                #expect(decoded != (try M(decoding: [UInt8]())), "\(sample) decoded to the default message")
            }
        }
    }

    @Test("bytes Portico encodes decode with protoc --decode to the reference text", arguments: MessageType.all)
    func referenceDecodesPorticoBytes(_ message: MessageType) throws {
        try Self.checkWithProtoc(message.type)
    }

    private static func checkWithProtoc<M: WireMessage>(_ type: M.Type) throws {
        for sample in try samples(of: M.protoName) {
            let value = try M(decoding: Array(try golden(sample, "binpb")))
            let text = try Protoc.decode(try value.encoded(), as: M.protoName)
            #expect(text == String(decoding: try golden(sample, "txtpb"), as: UTF8.self), "\(sample)")
        }
    }

    @Test("an empty message round-trips as zero bytes", arguments: MessageType.all)
    func emptyRoundTrip(_ message: MessageType) throws {
        try Self.checkEmpty(message.type)
    }

    private static func checkEmpty<M: WireMessage>(_ type: M.Type) throws {
        let empty = try M(decoding: [UInt8]())
        #expect(try empty.encoded().isEmpty)
        #expect(try M(decoding: try empty.encoded()) == empty)
    }

    @Test("values built in Swift survive protoc: a check request with a token subject")
    func swiftBuiltValueThroughProtoc() throws {
        let request = CheckPermissionRequest(
            assetID: 42,
            task: .analyze,
            explain: true,
            minRevision: 7,
            subject: .token("ptk_12_secret-é")
        )
        let text = try Protoc.decode(try request.encoded(), as: CheckPermissionRequest.protoName)
        let back = try CheckPermissionRequest(decoding: try Protoc.encode(text, as: CheckPermissionRequest.protoName))
        #expect(back == request)
        #expect(text.contains("task: ASSET_TASK_ANALYZE"))
    }

    @Test("every message type of the proto files is generated, and every RPC has its method")
    func registryIsComplete() throws {
        let names = Set(PorticoMessages.all.map { $0.protoName })
        #expect(names.count == PorticoMessages.all.count)
        #expect(names.contains("portico.v1.FrameHeader"))
        #expect(PorticoService.rpcs.count == Method.allCases.count - 1)
        for method in Method.allCases where method != .unspecified {
            let rpc = try #require(method.rpc)
            #expect(rpc.method == method)
            #expect(names.contains(rpc.requestProtoName) && names.contains(rpc.responseProtoName))
        }
    }
}

extension PorticoRPC {
    static var requestProtoName: String { Request.protoName }
    static var responseProtoName: String { Response.protoName }
}
