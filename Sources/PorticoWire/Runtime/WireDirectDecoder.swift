import CPorticoProto
import CProtobufC

/// Decodes a message without repeated fields (at any depth) straight into its protobuf-c struct, in the
/// one pass that validates it: the hot path's messages (`CheckPermissionRequest`, `FrameHeader`) then
/// cost one walk over their bytes instead of the validation pass plus protobuf-c's two.
///
/// It fills the struct as `protobuf_c_message_unpack` would (the last occurrence of a field wins, a
/// oneof holds its last member, varints are cut to their field's width), checks every byte as
/// ``WireValidator`` does, and keeps no unknown fields (nothing reads them). A test and the fuzzer
/// compare both paths on every input they decode.
enum WireDirectDecoder {
    /// Whether messages of `descriptor` qualify: no repeated field in them or in the messages they hold
    /// (repeated fields need a count before their array is allocated, which protobuf-c's scan gives).
    static func qualifies(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, depth: Int = 0) -> Bool {
        guard depth < WireValidator.maxDepth else { return false }
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields[index]
            if field.label == PROTOBUF_C_LABEL_REPEATED { return false }
            if field.type == PROTOBUF_C_TYPE_MESSAGE,
                !Self.qualifies(
                    field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), depth: depth + 1)
            {
                return false
            }
        }
        return true
    }

    /// A message of `descriptor` built in `arena` from `bytes`.
    /// - Throws: ``WireError`` as ``WireValidator/validate(_:as:arena:maxDepth:)`` does.
    static func decode(
        _ bytes: UnsafeRawBufferPointer,
        as descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        arena: WireArena
    ) throws(WireError) -> UnsafeMutableRawPointer {
        let message = Self.makeMessage(descriptor, arena)
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return message }
        var reader = WireReader(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        try Self.fill(message, &reader, descriptor, depth: 1, arena: arena)
        return message
    }

    /// A message struct in the arena, initialised by protoc-c's generated init (defaults, descriptor).
    private static func makeMessage(
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        _ arena: WireArena
    ) -> UnsafeMutableRawPointer {
        let message = arena.allocate(byteCount: descriptor.pointee.sizeof_message)
        descriptor.pointee.message_init(message.assumingMemoryBound(to: ProtobufCMessage.self))
        return message
    }

    private static func fill(
        _ message: UnsafeMutableRawPointer,
        _ reader: inout WireReader,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        depth: Int,
        arena: WireArena
    ) throws(WireError) {
        try WireValidator.checkDepth(depth, WireValidator.maxDepth, descriptor)
        var seenMessages: UInt64 = 0
        while let (index, number, wireType) = try WireValidator.nextKnownField(&reader, descriptor, arena) {
            let field = descriptor.pointee.fields + index
            let type = field.pointee.type
            let member = message + Int(field.pointee.offset)
            switch wireType {
            case 0:
                guard WireType.of(type.rawValue) == 0 else {
                    throw WireValidator.wrongWireType(field, descriptor, wireType)
                }
                let value = try reader.readVarint()
                switch type {
                case PROTOBUF_C_TYPE_ENUM:
                    try WireValidator.checkEnum(value, field, descriptor)
                    member.storeBytes(of: Int32(truncatingIfNeeded: value), as: Int32.self)
                case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_UINT32:
                    member.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
                case PROTOBUF_C_TYPE_SINT32:
                    let raw = UInt32(truncatingIfNeeded: value)
                    member.storeBytes(of: Int32(bitPattern: raw >> 1) ^ -Int32(bitPattern: raw & 1), as: Int32.self)
                case PROTOBUF_C_TYPE_SINT64:
                    member.storeBytes(of: Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1), as: Int64.self)
                case PROTOBUF_C_TYPE_BOOL:
                    member.storeBytes(of: protobuf_c_boolean(value != 0 ? 1 : 0), as: protobuf_c_boolean.self)
                default:  // INT64, UINT64
                    member.storeBytes(of: value, as: UInt64.self)
                }
            case 1, 5:
                let width = wireType == 1 ? 8 : 4
                guard WireType.of(type.rawValue) == wireType else {
                    throw WireValidator.wrongWireType(field, descriptor, wireType)
                }
                let start = reader.at
                try reader.skipFixed(width)
                member.copyMemory(from: start, byteCount: width)
            case 2:
                let length = try reader.readLength()
                let start = reader.at
                reader.advance(by: length)
                switch type {
                case PROTOBUF_C_TYPE_STRING:
                    try WireValidator.checkString(start, length, field, descriptor, arena)
                    let copy = arena.allocate(byteCount: length + 1)
                    copy.copyMemory(from: start, byteCount: length)
                    copy.storeBytes(of: 0, toByteOffset: length, as: UInt8.self)
                    member.storeBytes(of: copy, as: UnsafeMutableRawPointer.self)
                case PROTOBUF_C_TYPE_BYTES:
                    var data: UnsafeMutableRawPointer?
                    if length > 0 {
                        data = arena.allocate(byteCount: length)
                        data!.copyMemory(from: start, byteCount: length)
                    }
                    member.storeBytes(
                        of: ProtobufCBinaryData(len: length, data: data?.assumingMemoryBound(to: UInt8.self)),
                        as: ProtobufCBinaryData.self
                    )
                case PROTOBUF_C_TYPE_MESSAGE:
                    try WireValidator.noteMessage(index, &seenMessages, field, descriptor)
                    let nested = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    let child = Self.makeMessage(nested, arena)
                    var inner = WireReader(start, count: length)
                    try Self.fill(child, &inner, nested, depth: depth + 1, arena: arena)
                    member.storeBytes(of: child, as: UnsafeMutableRawPointer.self)
                default:
                    // A packed run: only a repeated field may be one, and these messages have none.
                    throw WireValidator.wrongWireType(field, descriptor, wireType)
                }
            default:
                throw WireReader.malformed("wire type \(wireType) is not allowed")
            }
            // A oneof records its member; a proto2-style optional its presence.
            if field.pointee.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0 {
                (message + Int(field.pointee.quantifier_offset)).storeBytes(of: UInt32(number), as: UInt32.self)
            } else if field.pointee.label == PROTOBUF_C_LABEL_OPTIONAL, field.pointee.quantifier_offset != 0 {
                (message + Int(field.pointee.quantifier_offset)).storeBytes(of: 1, as: protobuf_c_boolean.self)
            }
        }
    }
}
