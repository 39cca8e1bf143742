import NIOCore
@testable import PorticoWire
import Testing

/// Every request type refuses bad bodies whole: every occurrence of every field is checked, including
/// those protobuf-c drops (a field sent twice, an earlier member of a oneof), and every structural
/// fault, each with INVALID_ARGUMENT and a stable reason.
@Suite("Whole-body validation")
struct BodyValidationTests {
    struct BadBody: CustomStringConvertible {
        let what: String
        let bytes: [UInt8]
        let reason: String
        var description: String { self.what }
    }

    /// Field 1000 is known to no message: faults of the wire format itself, whatever the type.
    static let structural: [BadBody] = [
        BadBody(what: "a key cut short", bytes: [0x80], reason: "MALFORMED_MESSAGE"),
        BadBody(what: "a varint cut short", bytes: Wire.key(1000, 0) + [0xFF], reason: "MALFORMED_MESSAGE"),
        BadBody(
            what: "an 11-byte varint",
            bytes: Wire.key(1000, 0) + [UInt8](repeating: 0xFF, count: 10) + [0x01],
            reason: "MALFORMED_MESSAGE"
        ),
        BadBody(
            what: "a 10-byte varint past 64 bits",
            bytes: Wire.key(1000, 0) + [UInt8](repeating: 0xFF, count: 9) + [0x02],
            reason: "MALFORMED_MESSAGE"
        ),
        BadBody(what: "wire type 3 (a group)", bytes: Wire.key(1000, 3), reason: "MALFORMED_MESSAGE"),
        BadBody(what: "wire type 4", bytes: Wire.key(1000, 4), reason: "MALFORMED_MESSAGE"),
        BadBody(what: "wire type 6", bytes: Wire.key(1000, 6) + [0], reason: "MALFORMED_MESSAGE"),
        BadBody(what: "wire type 7", bytes: Wire.key(1000, 7) + [0], reason: "MALFORMED_MESSAGE"),
        BadBody(what: "field number 0", bytes: [0x00, 0x01], reason: "MALFORMED_MESSAGE"),
        BadBody(what: "field number 2^29", bytes: Wire.key(1 << 29, 0) + [1], reason: "MALFORMED_MESSAGE"),
        // Found by the fuzzer: a key padded to 6 bytes (field 1000), which protobuf-c refuses.
        BadBody(what: "a 6-byte key", bytes: [0xC0, 0xBE, 0x80, 0x80, 0x80, 0x00, 0x01], reason: "MALFORMED_MESSAGE"),
        // Found by the fuzzer: a length of 0 padded to 6 bytes, which protobuf-c refuses.
        BadBody(
            what: "a 6-byte length",
            bytes: Wire.key(1000, 2) + [0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            reason: "MALFORMED_MESSAGE"
        ),
        BadBody(what: "a length past the end", bytes: Wire.key(1000, 2) + [5, 1], reason: "MALFORMED_MESSAGE"),
        BadBody(
            what: "a 4 GiB length",
            bytes: Wire.key(1000, 2) + Wire.varint(1 << 32) + [1],
            reason: "MALFORMED_MESSAGE"
        ),
        BadBody(what: "a 64-bit value cut short", bytes: Wire.key(1000, 1) + [1, 2, 3], reason: "MALFORMED_MESSAGE"),
        BadBody(what: "a 32-bit value cut short", bytes: Wire.key(1000, 5) + [1, 2, 3], reason: "MALFORMED_MESSAGE"),
        BadBody(
            what: "a fault after a valid unknown field",
            bytes: Wire.varintField(1000, 7) + Wire.lengthDelimited(1001, [1, 2]) + [0x80],
            reason: "MALFORMED_MESSAGE"
        ),
    ]

    /// Bad occurrences of each of the type's own fields, each followed by a valid one that protobuf-c
    /// would keep in its place.
    static func fieldFaults(_ schema: WireSchema, depth: Int = 0) -> [BadBody] {
        var bodies: [BadBody] = []
        let oneofMembers = schema.fields.filter(\.inOneof)
        for field in schema.fields {
            let name = "\(schema.name).\(field.name)"
            let valid = Wire.valid(field)
            switch field.kind {
            case .string:
                let badStrings: [(String, [UInt8], String)] = [
                    ("bad UTF-8", [0x61, 0xFF], "INVALID_UTF8"),
                    ("a NUL", [0x61, 0x00, 0x62], "NUL_IN_STRING"),
                    ("an overlong '/'", [0xC0, 0xAF], "INVALID_UTF8"),
                    ("a surrogate", [0xED, 0xA0, 0x80], "INVALID_UTF8"),
                ]
                for (what, bytes, reason) in badStrings {
                    bodies.append(BadBody(
                        what: "\(name): \(what), then a valid string",
                        bytes: Wire.lengthDelimited(field.number, bytes) + valid,
                        reason: reason
                    ))
                }
                if field.inOneof, let other = oneofMembers.first(where: { $0.number != field.number }) {
                    bodies.append(BadBody(
                        what: "\(name): bad UTF-8 overridden by oneof member \(other.name)",
                        bytes: Wire.lengthDelimited(field.number, [0xFF]) + Wire.valid(other),
                        reason: "INVALID_UTF8"
                    ))
                }
                bodies.append(BadBody(
                    what: "\(name) as a varint", bytes: Wire.varintField(field.number, 1), reason: "MALFORMED_MESSAGE"
                ))
            case .enumeration:
                bodies.append(BadBody(
                    what: "\(name): an unknown value, then a valid one",
                    bytes: Wire.varintField(field.number, 99_999) + valid,
                    reason: "UNKNOWN_ENUM_VALUE"
                ))
                bodies.append(BadBody(
                    what: "\(name): a negative unknown value, then a valid one",
                    bytes: Wire.varintField(field.number, UInt64(bitPattern: -5)) + valid,
                    reason: "UNKNOWN_ENUM_VALUE"
                ))
                if field.repeated {
                    bodies.append(BadBody(
                        what: "\(name): an unknown value in a packed run",
                        bytes: Wire.lengthDelimited(field.number, [1] + Wire.varint(99_999) + [1]),
                        reason: "UNKNOWN_ENUM_VALUE"
                    ))
                    bodies.append(BadBody(
                        what: "\(name): a packed run ending in a cut varint",
                        bytes: Wire.lengthDelimited(field.number, [0x01, 0x80]),
                        reason: "MALFORMED_MESSAGE"
                    ))
                } else {
                    bodies.append(BadBody(
                        what: "\(name) as bytes",
                        bytes: Wire.lengthDelimited(field.number, [1]),
                        reason: "MALFORMED_MESSAGE"
                    ))
                }
            case .varint, .bool:
                if !field.repeated {
                    bodies.append(BadBody(
                        what: "\(name) as bytes, then valid",
                        bytes: Wire.lengthDelimited(field.number, [1]) + valid,
                        reason: "MALFORMED_MESSAGE"
                    ))
                }
                bodies.append(BadBody(
                    what: "\(name) as a 32-bit value",
                    bytes: Wire.key(field.number, 5) + [1, 0, 0, 0],
                    reason: "MALFORMED_MESSAGE"
                ))
            case .fixed32, .fixed64:
                bodies.append(BadBody(
                    what: "\(name) as a varint", bytes: Wire.varintField(field.number, 1), reason: "MALFORMED_MESSAGE"
                ))
            case .bytes:
                bodies.append(BadBody(
                    what: "\(name) as a varint", bytes: Wire.varintField(field.number, 1), reason: "MALFORMED_MESSAGE"
                ))
            case .message(let nested):
                bodies.append(BadBody(
                    what: "\(name) as a varint", bytes: Wire.varintField(field.number, 1), reason: "MALFORMED_MESSAGE"
                ))
                if !field.repeated {
                    bodies.append(BadBody(
                        what: "\(name) sent twice (protobuf-c would merge them)",
                        bytes: valid + valid,
                        reason: "DUPLICATE_FIELD"
                    ))
                }
                bodies.append(BadBody(
                    what: "\(name) holding a message cut short",
                    bytes: Wire.lengthDelimited(field.number, [0x08]),
                    reason: "MALFORMED_MESSAGE"
                ))
                // The nested type's own faults, one level down (Portico's types nest at most 3 deep).
                if depth < 3 {
                    for inner in Self.fieldFaults(nested, depth: depth + 1) {
                        bodies.append(BadBody(
                            what: "\(name) { \(inner.what) }",
                            bytes: valid + Wire.lengthDelimited(field.number, inner.bytes),
                            reason: field.repeated ? inner.reason : "DUPLICATE_FIELD"
                        ))
                        bodies.append(BadBody(
                            what: "\(name) { \(inner.what) } alone",
                            bytes: Wire.lengthDelimited(field.number, inner.bytes),
                            reason: inner.reason
                        ))
                    }
                }
            }
        }
        return bodies
    }

    /// Where the type is decoded directly (no repeated field), protobuf-c's path agrees on `bytes`.
    static func expectBothPathsAgree(_ type: any WireMessage.Type, _ bytes: [UInt8], _ what: String) {
        let codec = type as! any CMessageCodec.Type
        do {
            try bytes.withUnsafeBytes { try codec.checkBothPaths($0) }
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    static func expectRefused(_ type: any WireMessage.Type, _ body: BadBody) {
        Self.expectBothPathsAgree(type, body.bytes, body.what)
        do {
            _ = try body.bytes.withUnsafeBytes { try type.init(decoding: $0, arena: WireArena()) }
            Issue.record("\(type.protoName) accepted \(body.what): \(body.bytes)")
        } catch let error as WireError {
            #expect(error.code == .invalidArgument, "\(type.protoName), \(body.what): \(error)")
            #expect(error.reason == body.reason, "\(type.protoName), \(body.what): \(error)")
        } catch {
            Issue.record("\(type.protoName), \(body.what): not a WireError: \(error)")
        }
    }

    @Test("structural faults are refused by every request type", arguments: WireSchema.requests.map(MessageType.init))
    func structuralFaults(_ type: MessageType) {
        for body in Self.structural {
            Self.expectRefused(type.type, body)
        }
    }

    @Test("bad occurrences of each field are refused, even where a later one overrides them",
          arguments: WireSchema.requests.map(MessageType.init))
    func fieldFaults(_ type: MessageType) throws {
        let schema = WireSchema(type.type)
        let bodies = Self.fieldFaults(schema)
        // Only the empty requests have no faults of their own.
        #expect(!bodies.isEmpty || schema.fields.isEmpty)
        for body in bodies {
            Self.expectRefused(type.type, body)
        }
        // The valid occurrences those faults were built from decode, so each refusal is the fault's.
        let valid = schema.fields.filter { !$0.inOneof }.flatMap(Wire.valid)
        _ = try valid.withUnsafeBytes { try type.type.init(decoding: $0, arena: WireArena()) }
        Self.expectBothPathsAgree(type.type, valid, "every field valid")
        // Each field twice with other values, unknown fields between: the last occurrence wins both ways.
        let twice = schema.fields.flatMap { Wire.valid($0) + Wire.varintField(900, 3) + Wire.valid($0) }
        Self.expectBothPathsAgree(type.type, twice, "every field twice")
    }

    @Test("messages nested beyond the depth limit are refused; unknown fields are skipped, not parsed")
    func nesting() throws {
        let item = Wire.lengthDelimited(1, Wire.varintField(1, 7) + Wire.varintField(4, 9))
        let arena = WireArena()
        try item.withUnsafeBytes {
            try WireValidator.validate($0, as: BatchCheckPermissionsRequest.cDescriptor, arena: arena, maxDepth: 2)
        }
        do {
            try item.withUnsafeBytes {
                try WireValidator.validate($0, as: BatchCheckPermissionsRequest.cDescriptor, arena: arena, maxDepth: 1)
            }
            Issue.record("a message two deep passed a limit of 1")
        } catch let error as WireError {
            #expect(error.reason == "NESTING_TOO_DEEP")
        }
        // 100,000 levels of what would be nested messages, in an unknown field: one field to skip.
        var deep: [UInt8] = []
        for _ in 0..<100_000 { deep = Wire.lengthDelimited(1, deep) }
        let body = Wire.lengthDelimited(1000, deep)
        let before = arena.work.fieldsValidated
        let decoded = try body.withUnsafeBytes { try BatchCheckPermissionsRequest(decoding: $0, arena: arena) }
        #expect(decoded == BatchCheckPermissionsRequest())
        #expect(arena.work.fieldsValidated - before == 1)
    }

    @Test("what protobuf allows passes: non-minimal varints, packed and unpacked runs, unknown fields")
    func accepted() throws {
        // asset_id (4) = 5 in three bytes; task (5) = 2 in two; explain (6) = true as 10 bytes.
        let body = [0x20, 0x85, 0x80, 0x00, 0x28, 0x82, 0x00, 0x30] + [UInt8](repeating: 0xFF, count: 9) + [0x01]
        let check = try CheckPermissionRequest(decoding: body)
        #expect(check == CheckPermissionRequest(assetID: 5, task: AssetTask(rawValue: 2)!, explain: true))
        // AssignTasksRequest.tasks (3): packed [1, 2] then unpacked 3, with an unknown fixed32 between.
        let tasks = Wire.lengthDelimited(3, [1, 2]) + Wire.key(77, 5) + [0, 0, 0, 0] + Wire.varintField(3, 3)
        #expect(try AssignTasksRequest(decoding: tasks).tasks.map(\.rawValue) == [1, 2, 3])
        // A string field sent twice, both valid: the last one wins, as protobuf says.
        let twice = Wire.lengthDelimited(2, Array("first".utf8)) + Wire.lengthDelimited(2, Array("second".utf8))
        #expect(try AddPersonRequest(decoding: twice).name == "second")
    }

    @Test("the hot path's messages are decoded directly, in one pass")
    func directTypes() {
        #expect(CheckPermissionRequest.cDescriptor.direct)
        #expect(FrameHeader.cDescriptor.direct)
        #expect(!BatchCheckPermissionsRequest.cDescriptor.direct)
        #expect(!AssignTasksRequest.cDescriptor.direct)
    }

    @Test("every message type's fields are sorted by number and fewer than 64", arguments: MessageType.all)
    func descriptorShape(_ type: MessageType) {
        // The validator's field lookup relies on the order, its duplicate check on the count.
        let numbers = WireSchema(type.type).fields.map(\.number)
        #expect(numbers == numbers.sorted())
        #expect(numbers.count < 64)
    }
}
