import Foundation
import NIOCore
import Testing

@testable import PorticoWire

/// The hot path's specialised codecs against the codec of record, protobuf-c: every decoder gives the
/// value protobuf-c's unpack gives (after the validation every decode runs), or refuses with the same
/// status, reason and message; every encoder writes the bytes protobuf-c's pack writes.
///
/// The inputs are the committed fuzz seeds of each message (fuzz/seeds) and what ``HotInputGenerator``
/// makes and mutates from them, seeded: `PORTICO_DIFFERENTIAL_INPUTS` inputs over the three decoders
/// (1,000,000 unless set), the same on every run.
@Suite("In-place codecs against protobuf-c")
struct InPlaceCodecDifferentialTests {
    static let totalInputs = Int(ProcessInfo.processInfo.environment["PORTICO_DIFFERENTIAL_INPUTS"] ?? "") ?? 1_000_000

    struct Target: Sendable, CustomTestStringConvertible {
        let name: String
        let seedPrefix: String
        let schema: @Sendable () -> HotInputGenerator.Schema
        let compare: @Sendable ([UInt8], WireArena, WireArena) -> Outcome
        let seed: UInt64
        var testDescription: String { self.name }
    }

    static let targets: [Target] = [
        Target(
            name: "FrameHeader", seedPrefix: "golden-FrameHeader", schema: { HotInputGenerator.frameHeader },
            compare: { Self.compare(FrameHeader.self, $0, $1, $2) }, seed: 1),
        Target(
            name: "CheckPermissionRequest", seedPrefix: "golden-CheckPermissionRequest",
            schema: { HotInputGenerator.checkRequest },
            compare: { Self.compare(CheckPermissionRequest.self, $0, $1, $2) }, seed: 2),
        Target(
            name: "BatchCheckPermissionsRequest", seedPrefix: "golden-BatchCheckPermissionsRequest",
            schema: { HotInputGenerator.batchRequest },
            compare: { Self.compare(BatchCheckPermissionsRequest.self, $0, $1, $2) }, seed: 3),
    ]

    @Test(
        "a specialised decoder gives protobuf-c's value or its refusal, on generated and mutated inputs",
        arguments: Self.targets)
    func decoder(_ target: Target) throws {
        let corpus = try Self.seeds(target.seedPrefix)
        #expect(!corpus.isEmpty, "fuzz/seeds has no \(target.seedPrefix)*: rerun fuzz/make-seeds.py")
        var generator = HotInputGenerator(seed: target.seed, corpus: corpus)
        let schema = target.schema()
        let inPlaceArena = WireArena()
        let recordArena = WireArena()
        var failures: [String] = []
        var outcomes = (decoded: 0, refused: 0, fellBack: 0)
        for _ in 0..<Self.totalInputs / Self.targets.count {
            let input = generator.next(schema)
            switch target.compare(input, inPlaceArena, recordArena) {
            case .decoded: outcomes.decoded += 1
            case .refused: outcomes.refused += 1
            case .fellBack: outcomes.fellBack += 1
            case .differ(let failure):
                failures.append("\(failure)\n  input: \(input.map { String(format: "%02x", $0) }.joined())")
            }
            if failures.count >= 5 { break }
        }
        #expect(failures.isEmpty, "\(target.name):\n\(failures.joined(separator: "\n"))")
        // Both kinds of outcome are exercised, each in a good share of the inputs.
        let total = outcomes.decoded + outcomes.refused + outcomes.fellBack
        #expect(outcomes.decoded > total / 10 && outcomes.refused > total / 10, "\(target.name): \(outcomes)")
    }

    /// What both decoders made of one input.
    enum Outcome {
        case decoded
        case refused
        /// The specialised decoder met a field it does not take and left the message to protobuf-c.
        case fellBack
        case differ(String)
    }

    /// One input through both decoders.
    static func compare<M: CMessageCodec>(
        _ type: M.Type, _ input: [UInt8], _ inPlaceArena: WireArena,
        _ recordArena: WireArena
    ) -> Outcome {
        input.withUnsafeBytes { bytes in
            let inPlace: Result<M?, WireError> = Result { () throws(WireError) in
                try M.decodeInPlace(bytes, arena: inPlaceArena)
            }
            let record = Result { try M.decodeC(bytes, arena: recordArena, direct: false) }
            switch (inPlace, record) {
            case (.success(nil), _):
                return .fellBack
            case (.success(let one?), .success(let other)):
                guard one == other else { return .differ("\(M.protoName): in place \(one), protobuf-c \(other)") }
                // `==` compares strings by Unicode equivalence: the bytes must be the same too.
                guard (try? one.encoded()) == (try? other.encoded()) else {
                    return .differ("\(M.protoName): in place \(one) and protobuf-c \(other) differ in their bytes")
                }
                return .decoded
            case (.failure(let one), .failure(let other as WireError)):
                return one == other ? .refused : .differ("\(M.protoName): in place refused \(one), protobuf-c \(other)")
            default:
                return .differ("\(M.protoName): in place \(inPlace), protobuf-c \(record)")
            }
        }
    }

    /// The committed seeds of a message, without the byte that picks the fuzzer's decoder.
    static func seeds(_ prefix: String) throws -> [[UInt8]] {
        try FuzzCorpusTests.inputs("seeds").filter { $0.lastPathComponent.hasPrefix(prefix) }
            .map { Array(try [UInt8](Data(contentsOf: $0)).dropFirst()) }
    }

    // MARK: encoders

    @Test("the check response is written as protobuf-c packs it")
    func checkResponse() throws {
        var random = SplitMix64(seed: 4)
        let arena = WireArena()
        for _ in 0..<50_000 {
            let response = Self.checkResponse(&random)
            var direct = ByteBuffer()
            #expect(response.encodeInPlace(into: &direct))
            var packed = ByteBuffer()
            try response.packC(into: &packed, arena: arena)
            #expect(direct == packed, "\(response): in place \(direct.hex), protobuf-c \(packed.hex)")
            if direct != packed { break }
        }
        let explained = CheckPermissionResponse(allowed: true, explanation: [ExplainStep(rule: .asset, passed: true)])
        var untouched = ByteBuffer()
        #expect(!explained.encodeInPlace(into: &untouched) && untouched.readableBytes == 0)
    }

    @Test("a check's whole answer frame, written in one go, has protobuf-c's header and body behind its lengths")
    func checkResponseFrame() throws {
        var random = SplitMix64(seed: 6)
        let arena = WireArena()
        for round in 0..<50_000 {
            let response = Self.checkResponse(&random)
            let callID = round == 0 ? 0 : Self.revision(&random)
            // Behind bytes already there, partly read, as in a connection's output buffer.
            var direct = ByteBuffer(bytes: [9, 9, 9])
            direct.moveReaderIndex(forwardBy: 1)
            #expect(Frame.writeResponse(callID: callID, check: response, into: &direct))
            var header = ByteBuffer()
            try FrameHeader.response(callID: callID).packC(into: &header, arena: arena)
            var body = ByteBuffer()
            try response.packC(into: &body, arena: arena)
            var packed = ByteBuffer(bytes: [9, 9])
            packed.writeInteger(UInt32(4 + header.readableBytes + body.readableBytes))
            packed.writeInteger(UInt32(header.readableBytes))
            packed.writeBuffer(&header)
            packed.writeBuffer(&body)
            #expect(direct == packed, "call \(callID), \(response): in one go \(direct.hex), protobuf-c \(packed.hex)")
            if direct != packed { break }
        }
        // An explanation goes through protobuf-c; a frame over the limit is not written: nothing is.
        let explained = CheckPermissionResponse(allowed: true, explanation: [ExplainStep(rule: .asset, passed: true)])
        var untouched = ByteBuffer(bytes: [1, 2, 3])
        #expect(!Frame.writeResponse(callID: 5, check: explained, into: &untouched))
        let plain = CheckPermissionResponse(allowed: true, reason: .assigned, revision: 1 << 40)
        #expect(!Frame.writeResponse(callID: 5, check: plain, into: &untouched, maxBytes: 16))
        #expect(untouched == ByteBuffer(bytes: [1, 2, 3]))
    }

    @Test("the batch response is written as protobuf-c packs it")
    func batchResponse() throws {
        var random = SplitMix64(seed: 5)
        let arena = WireArena()
        for round in 0..<5_000 {
            let results = (0..<Int(random.next() % 130)).map { _ in
                CheckResult(
                    allowed: random.next() & 1 == 0,
                    reason: DecisionReason.allCases[Int(random.next() % UInt64(DecisionReason.allCases.count))]
                )
            }
            let response = BatchCheckPermissionsResponse(results: results, revision: Self.revision(&random))
            var direct = ByteBuffer()
            // Written after other bytes, as a frame's body is.
            direct.writeBytes([0xEE, round % 2 == 0 ? 0x01 : 0x02])
            var packed = direct
            #expect(response.encodeInPlace(into: &direct))
            try response.packC(into: &packed, arena: arena)
            #expect(direct == packed, "\(response): in place \(direct.hex), protobuf-c \(packed.hex)")
            if direct != packed { break }
        }
        let explained = BatchCheckPermissionsResponse(results: [
            CheckResult(allowed: true), CheckResult(explanation: [ExplainStep(rule: .share)]),
        ])
        var untouched = ByteBuffer()
        #expect(!explained.encodeInPlace(into: &untouched) && untouched.readableBytes == 0)
    }

    /// A check's answer without an explanation: any decision, any reason, a revision of any length.
    static func checkResponse(_ random: inout SplitMix64) -> CheckPermissionResponse {
        CheckPermissionResponse(
            allowed: random.next() & 1 == 0,
            reason: DecisionReason.allCases[Int(random.next() % UInt64(DecisionReason.allCases.count))],
            revision: Self.revision(&random)
        )
    }

    static func revision(_ random: inout SplitMix64) -> UInt64 {
        switch random.next() % 4 {
        case 0: 0
        case 1: random.next() % 128
        case 2: UInt64.max - random.next() % 2
        default: random.next() >> (random.next() % 64)
        }
    }
}
