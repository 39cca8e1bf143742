import CPorticoProto
import CProtobufC

/// Reads a message's fields where its bytes lie, for the decoders of the hot path's messages
/// (`FrameHeader`, `CheckPermissionRequest`, `BatchCheckPermissionsRequest`), which build the Swift value
/// with no protobuf-c struct between.
///
/// Each field is checked exactly as ``WireValidator`` checks it, in the same order and with the same
/// errors (wire type against the field's type, enum value known, string UTF-8 without NUL; fields this
/// version does not know skipped), so that a specialised decoder refuses what the codec of record
/// (validation, then protobuf-c's unpack) refuses, with the same status, reason and message. The
/// differential test (`InPlaceCodecDifferentialTests`) holds the two to that over a corpus of generated
/// and mutated inputs.
struct InPlaceFieldReader {
    /// A field's value as the wire gives it.
    enum Value {
        /// A varint (enum values checked already).
        case varint(UInt64)
        /// A string (checked), bytes, or an embedded message (not yet checked).
        case bytes(UnsafePointer<UInt8>, Int)
    }

    private(set) var reader: WireReader
    let descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    let arena: WireArena

    init(_ bytes: UnsafeRawBufferPointer, _ descriptor: MessageDescriptor, arena: WireArena) {
        self.init(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count, descriptor.pointer, arena)
    }

    init(
        _ start: UnsafePointer<UInt8>,
        _ count: Int,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        _ arena: WireArena
    ) {
        self.reader = WireReader(start, count: count)
        self.descriptor = descriptor
        self.arena = arena
    }

    /// The next field this version knows: its number, descriptor and value; nil at the message's end.
    /// - Throws: what ``WireValidator`` throws for the same bytes.
    @inline(__always)
    mutating func next() throws(WireError) -> (
        number: Int, field: UnsafePointer<ProtobufCFieldDescriptor>, value: Value
    )? {
        guard
            let (index, number, wireType) = try WireValidator.nextKnownField(&self.reader, self.descriptor, self.arena)
        else { return nil }
        let field = self.descriptor.pointee.fields + index
        let type = field.pointee.type.rawValue
        switch wireType {
        case 0:
            guard WireType.of(type) == 0 else { throw WireValidator.wrongWireType(field, self.descriptor, wireType) }
            let value = try self.reader.readVarint()
            if type == PROTOBUF_C_TYPE_ENUM.rawValue { try WireValidator.checkEnum(value, field, self.descriptor) }
            return (number, field, .varint(value))
        case 2:
            let length = try self.reader.readLength()
            let start = self.reader.at
            self.reader.advance(by: length)
            switch type {
            case PROTOBUF_C_TYPE_STRING.rawValue:
                try WireValidator.checkString(start, length, field, self.descriptor, self.arena)
            case PROTOBUF_C_TYPE_BYTES.rawValue, PROTOBUF_C_TYPE_MESSAGE.rawValue:
                break
            default:
                // A packed run: only a repeated scalar may be one, and the hot messages have none.
                throw WireValidator.wrongWireType(field, self.descriptor, wireType)
            }
            return (number, field, .bytes(start, length))
        case 1, 5:
            // The hot messages have no fixed-width field, so this refuses; a fixed one would be its bytes.
            guard WireType.of(type) == wireType else {
                throw WireValidator.wrongWireType(field, self.descriptor, wireType)
            }
            let start = self.reader.at
            try self.reader.skipFixed(wireType == 1 ? 8 : 4)
            return (number, field, .bytes(start, wireType == 1 ? 8 : 4))
        default:
            throw WireReader.malformed("wire type \(wireType) is not allowed")
        }
    }

    /// A checked string's Swift value (the arena keeps a connection's recent credential and token).
    @inline(__always)
    func string(_ value: Value, field: StaticString) -> String {
        guard case .bytes(let start, let count) = value else { preconditionFailure("\(field) is not a string") }
        return self.arena.liftString(start, count: count, field: field)
    }

    /// A varint field's value.
    @inline(__always)
    static func varint(_ value: Value) -> UInt64 {
        guard case .varint(let raw) = value else { preconditionFailure("not a varint field") }
        return raw
    }

    /// A checked enum field's value as the Swift enum.
    @inline(__always)
    static func enumValue<E: WireEnum>(_ value: Value, _ type: E.Type) -> E {
        // Checked against the C descriptor, generated from the same .proto as the Swift enum.
        E(rawValue: Int32(truncatingIfNeeded: Self.varint(value)))!
    }
}
