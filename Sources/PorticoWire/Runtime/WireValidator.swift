import PorticoReasons
import CPorticoProto
import CProtobufC

/// A protobuf-c message descriptor: constant C data that protoc-c generated, never written, so any
/// thread may read it.
struct MessageDescriptor: @unchecked Sendable {
    let pointer: UnsafePointer<ProtobufCMessageDescriptor>
    /// Whether ``WireDirectDecoder`` decodes this type (it has no repeated field at any depth).
    let direct: Bool

    init(pointer: UnsafePointer<ProtobufCMessageDescriptor>) {
        self.pointer = pointer
        self.direct = WireDirectDecoder.qualifies(pointer)
    }
}

/// Checks a message's wire bytes whole, against its protobuf-c descriptor, before protobuf-c unpacks
/// them: one pass, linear in the bytes, allocating nothing.
///
/// protobuf-c keeps the last of a field sent twice and the last member of a oneof, so a value it drops
/// is never lifted and never checked there. This pass sees every occurrence:
/// - every string is UTF-8 without NUL, every enum value is one the enum defines, packed runs included;
/// - every known field has its type's wire type (protobuf-c takes a bool of any wire type);
/// - varints are at most 10 bytes and fit 64 bits, field numbers are 1 to 2^29 - 1, lengths stay inside
///   their message, and wire types are 0, 1, 2 or 5;
/// - messages nest at most ``maxDepth`` deep (protobuf-c recurses without a limit);
/// - a message field that is not repeated appears at most once: protobuf-c merges repeats of one, and
///   its merge copies the repeated fields gathered so far, which makes n repeats cost n² / 2.
/// Unknown fields are skipped, not parsed, whatever they hold.
enum WireValidator {
    /// How deep messages may nest, the outermost counting 1. Portico's own types nest 3 deep at most.
    static let maxDepth = 32

    /// - Throws: ``WireError`` INVALID_ARGUMENT with a reason of `MALFORMED_MESSAGE`, `INVALID_UTF8`,
    ///   `NUL_IN_STRING`, `UNKNOWN_ENUM_VALUE`, `DUPLICATE_FIELD` or `NESTING_TOO_DEEP`.
    static func validate(
        _ bytes: UnsafeRawBufferPointer,
        as descriptor: MessageDescriptor,
        arena: WireArena,
        maxDepth: Int = Self.maxDepth
    ) throws(WireError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var reader = WireReader(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        try Self.message(&reader, descriptor.pointer, depth: 1, maxDepth: maxDepth, arena: arena)
    }

    private static func message(
        _ reader: inout WireReader,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        depth: Int,
        maxDepth: Int,
        arena: WireArena
    ) throws(WireError) {
        try Self.checkDepth(depth, maxDepth, descriptor)
        // Singular message fields seen so far, by index (Portico's messages have fewer than 64 fields;
        // a test checks it).
        var seenMessages: UInt64 = 0
        while let (index, _, wireType) = try Self.nextKnownField(&reader, descriptor, arena) {
            let field = descriptor.pointee.fields + index
            let type = field.pointee.type.rawValue
            let repeated = field.pointee.label.rawValue == PROTOBUF_C_LABEL_REPEATED.rawValue
            switch wireType {
            case 0:
                guard WireType.of(type) == 0 else { throw Self.wrongWireType(field, descriptor, wireType) }
                let value = try reader.readVarint()
                if type == PROTOBUF_C_TYPE_ENUM.rawValue { try Self.checkEnum(value, field, descriptor) }
            case 1:
                guard WireType.of(type) == 1 else { throw Self.wrongWireType(field, descriptor, wireType) }
                try reader.skipFixed(8)
            case 5:
                guard WireType.of(type) == 5 else { throw Self.wrongWireType(field, descriptor, wireType) }
                try reader.skipFixed(4)
            case 2:
                let length = try reader.readLength()
                let start = reader.at
                reader.advance(by: length)
                switch type {
                case PROTOBUF_C_TYPE_STRING.rawValue:
                    try Self.checkString(start, length, field, descriptor, arena)
                case PROTOBUF_C_TYPE_BYTES.rawValue:
                    break
                case PROTOBUF_C_TYPE_MESSAGE.rawValue:
                    if !repeated { try Self.noteMessage(index, &seenMessages, field, descriptor) }
                    let nested = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    var inner = WireReader(start, count: length)
                    try Self.message(&inner, nested, depth: depth + 1, maxDepth: maxDepth, arena: arena)
                default:
                    // A packed run of scalars: only a repeated field may be packed.
                    guard repeated else { throw Self.wrongWireType(field, descriptor, wireType) }
                    var packed = WireReader(start, count: length)
                    try Self.packed(&packed, type, field, descriptor, arena)
                }
            default:
                throw WireReader.malformed("wire type \(wireType) is not allowed")
            }
        }
    }

    @inline(__always)
    static func checkDepth(
        _ depth: Int,
        _ maxDepth: Int,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(WireError) {
        guard depth <= maxDepth else {
            throw WireError.invalidArgument(
                .nestingTooDeep,
                "messages nest more than \(maxDepth) deep at \(Self.name(of: descriptor))"
            )
        }
    }

    /// The next field of the message that this version knows (its index in the descriptor, number and
    /// wire type), fields it does not know skipped; nil at the message's end.
    @inline(__always)
    static func nextKnownField(
        _ reader: inout WireReader,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        _ arena: WireArena
    ) throws(WireError) -> (index: Int, number: Int, wireType: UInt8)? {
        while !reader.isAtEnd {
            arena.work.fieldsValidated &+= 1
            let (number, wireType) = try reader.readKey()
            if let index = Self.fieldIndex(number, descriptor) { return (index, number, wireType) }
            try reader.skip(wireType)
        }
        return nil
    }

    /// The elements of a packed repeated scalar field.
    private static func packed(
        _ reader: inout WireReader,
        _ type: UInt32,
        _ field: UnsafePointer<ProtobufCFieldDescriptor>,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        _ arena: WireArena
    ) throws(WireError) {
        switch WireType.of(type) {
        case 0:
            let isEnum = type == PROTOBUF_C_TYPE_ENUM.rawValue
            while !reader.isAtEnd {
                arena.work.fieldsValidated &+= 1
                let value = try reader.readVarint()
                if isEnum { try Self.checkEnum(value, field, descriptor) }
            }
        case 1, 5:
            let width = WireType.of(type) == 1 ? 8 : 4
            guard reader.remaining % width == 0 else {
                throw WireReader.malformed("\(Self.name(of: field, descriptor)) holds a partial \(width * 8)-bit value")
            }
            arena.work.fieldsValidated &+= reader.remaining / width
        default:
            throw WireReader.malformed("\(Self.name(of: field, descriptor)) cannot be packed")
        }
    }

    /// The index in `descriptor.fields` of field `number`, or nil for a field this version does not know.
    @inline(__always)
    static func fieldIndex(_ number: Int, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> Int? {
        let count = Int(descriptor.pointee.n_fields)
        guard count > 0, let fields = descriptor.pointee.fields else { return nil }
        // protoc-c sorts the fields by number; most messages number them 1, 2, 3... without gaps.
        let guess = number - 1
        if guess < count && Int(fields[guess].id) == number { return guess }
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            let id = Int(fields[middle].id)
            if id == number { return middle }
            if id < number { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// Records that the message field at `index`, not repeated, was seen: a second time is refused.
    @inline(__always)
    static func noteMessage(
        _ index: Int,
        _ seen: inout UInt64,
        _ field: UnsafePointer<ProtobufCFieldDescriptor>,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(WireError) {
        guard index < 64 else { return }
        let bit: UInt64 = 1 << UInt64(index)
        guard seen & bit == 0 else {
            throw WireError.invalidArgument(
                .duplicateField,
                "\(Self.name(of: field, descriptor)) is not repeated but appears more than once"
            )
        }
        seen |= bit
    }

    static func checkEnum(
        _ value: UInt64,
        _ field: UnsafePointer<ProtobufCFieldDescriptor>,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) throws(WireError) {
        // protobuf-c keeps the low 32 bits, as proto3 does for an enum.
        let raw = Int32(truncatingIfNeeded: value)
        let enumDescriptor = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
        guard Self.isKnown(raw, enumDescriptor) else {
            let enumName = String(cString: enumDescriptor.pointee.name)
            throw WireError.invalidArgument(
                .unknownEnumValue,
                "\(Self.name(of: field, descriptor)): \(raw) is not a value of \(enumName)"
            )
        }
    }

    /// Whether the enum defines `value`: a binary search of its value ranges, as protobuf-c's own lookup.
    @inline(__always)
    static func isKnown(_ value: Int32, _ descriptor: UnsafePointer<ProtobufCEnumDescriptor>) -> Bool {
        let count = Int(descriptor.pointee.n_value_ranges)
        // value_ranges holds count + 1 entries: the last one's orig_index is the number of values.
        guard count > 0, let ranges = descriptor.pointee.value_ranges else { return false }
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].start_value <= value { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return false }
        let range = low - 1
        let size = Int(ranges[range + 1].orig_index) - Int(ranges[range].orig_index)
        return Int(value) - Int(ranges[range].start_value) < size
    }

    static func checkString(
        _ start: UnsafePointer<UInt8>,
        _ count: Int,
        _ field: UnsafePointer<ProtobufCFieldDescriptor>,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        _ arena: WireArena
    ) throws(WireError) {
        arena.work.stringBytesValidated &+= count
        switch UTF8Check.check(start, count) {
        case .valid:
            return
        case .nul:
            throw WireError.invalidArgument(
                .nulInString,
                "\(Self.name(of: field, descriptor)) contains a NUL character"
            )
        case .invalid:
            throw WireError.invalidArgument(.invalidUTF8, "\(Self.name(of: field, descriptor)) is not valid UTF-8")
        }
    }

    static func wrongWireType(
        _ field: UnsafePointer<ProtobufCFieldDescriptor>,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        _ wireType: UInt8
    ) -> WireError {
        WireReader.malformed("\(Self.name(of: field, descriptor)) cannot have wire type \(wireType)")
    }

    static func name(of descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> String {
        String(cString: descriptor.pointee.name)
    }

    /// `portico.v1.CheckItem.token`: the names errors give, as the generated lift code gives them.
    static func name(
        of field: UnsafePointer<ProtobufCFieldDescriptor>,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>
    ) -> String {
        "\(Self.name(of: descriptor)).\(String(cString: field.pointee.name))"
    }
}

/// The wire type each protobuf-c field type is sent with when not packed.
enum WireType {
    @inline(__always)
    static func of(_ type: UInt32) -> UInt8 {
        switch type {
        case PROTOBUF_C_TYPE_SFIXED64.rawValue, PROTOBUF_C_TYPE_FIXED64.rawValue, PROTOBUF_C_TYPE_DOUBLE.rawValue: 1
        case PROTOBUF_C_TYPE_SFIXED32.rawValue, PROTOBUF_C_TYPE_FIXED32.rawValue, PROTOBUF_C_TYPE_FLOAT.rawValue: 5
        case PROTOBUF_C_TYPE_STRING.rawValue, PROTOBUF_C_TYPE_BYTES.rawValue, PROTOBUF_C_TYPE_MESSAGE.rawValue: 2
        default: 0
        }
    }
}
