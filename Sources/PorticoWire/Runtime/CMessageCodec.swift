import CPorticoProto
import CProtobufC
import NIOCore

#if canImport(Glibc)
    import Glibc
    import PorticoReasons
#endif

/// The C side of a generated message: protobuf-c's functions for its struct, and the conversion
/// between the Swift value and the struct. Internal, so that no C type reaches PorticoWire's users.
protocol CMessageCodec: WireMessage {
    /// The struct protoc-c generated for the message.
    associatedtype CMessage

    /// protobuf-c's descriptor of the struct, which the validation pass walks.
    static var cDescriptor: MessageDescriptor { get }

    static func cInit(_ message: UnsafeMutablePointer<CMessage>)
    static func cPackedSize(_ message: UnsafePointer<CMessage>) -> Int
    static func cPack(_ message: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int
    static func cUnpack(
        _ allocator: UnsafeMutablePointer<ProtobufCAllocator>,
        _ count: Int,
        _ bytes: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>?

    /// Fills an initialised struct from this value; strings, arrays and sub-messages go into `arena`.
    func lower(into message: UnsafeMutablePointer<CMessage>, arena: WireArena) throws

    /// Builds the value from a struct that protobuf-c unpacked into `arena`.
    init(lifting message: UnsafePointer<CMessage>, arena: WireArena) throws

    /// The message decoded where its bytes lie, with no C struct between, for the hot path's messages
    /// that have such a decoder (the `+InPlace` files); nil for every other, which protobuf-c decodes.
    static func decodeInPlace(_ bytes: UnsafeRawBufferPointer, arena: WireArena) throws(WireError) -> Self?

    /// Writes the message straight into `buffer` and returns true, for the hot path's answers that have
    /// such an encoder; false, writing nothing, for every other, which protobuf-c packs.
    func encodeInPlace(into buffer: inout ByteBuffer) -> Bool
}

extension CMessageCodec {
    static func decodeInPlace(_ bytes: UnsafeRawBufferPointer, arena: WireArena) throws(WireError) -> Self? { nil }

    func encodeInPlace(into buffer: inout ByteBuffer) -> Bool { false }

    func encodeC(into buffer: inout ByteBuffer, arena: WireArena) throws {
        if self.encodeInPlace(into: &buffer) { return }
        try self.packC(into: &buffer, arena: arena)
    }

    /// The message packed by protobuf-c, the codec of record.
    func packC(into buffer: inout ByteBuffer, arena: WireArena) throws {
        defer { arena.reset() }
        let message = try arena.lowerMessage(self)
        let size = Self.cPackedSize(message)
        guard size > 0 else { return }
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            Self.cPack(message, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        assert(written == size, "protobuf-c packed \(written) bytes of \(size)")
    }

    static func decodeC(_ bytes: UnsafeRawBufferPointer, arena: WireArena) throws -> Self {
        if let decoded = try Self.decodeInPlace(bytes, arena: arena) { return decoded }
        return try Self.decodeC(bytes, arena: arena, direct: Self.cDescriptor.direct)
    }

    /// - Parameter direct: decode with ``WireDirectDecoder`` (for types it takes; the default where it
    ///   does), or validate with ``WireValidator`` and unpack with protobuf-c. Tests compare the two.
    static func decodeC(_ bytes: UnsafeRawBufferPointer, arena: WireArena, direct: Bool) throws -> Self {
        defer { arena.reset() }
        if direct {
            let message = try WireDirectDecoder.decode(bytes, as: Self.cDescriptor.pointer, arena: arena)
            return try Self(lifting: message.assumingMemoryBound(to: CMessage.self), arena: arena)
        }
        // Every byte is checked before protobuf-c sees it (strings, enums, wire types, nesting, fields
        // it would drop or merge), so what protobuf-c builds is valid whichever occurrence it kept.
        try WireValidator.validate(bytes, as: Self.cDescriptor, arena: arena)
        // protobuf-c reads nothing from an empty message, but wants a non-null pointer.
        var empty: UInt8 = 0
        let decoded = withUnsafePointer(to: &empty) { emptyPointer in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyPointer
            return Self.cUnpack(arena.allocator, bytes.count, base)
        }
        guard let decoded else {
            throw WireError.invalidArgument(.malformedMessage, "the bytes are not a valid \(Self.protoName)")
        }
        return try Self(lifting: decoded, arena: arena)
    }
}

extension WireArena {
    /// A NUL-terminated copy of `string`.
    /// - Throws: `.invalidArgument` if the string contains NUL, which a C string would silently cut short.
    func lowerString(_ string: String, field: StaticString) throws -> UnsafeMutablePointer<CChar> {
        var string = string
        return try string.withUTF8 { utf8 in
            if utf8.contains(0) {
                throw WireError.invalidArgument(.nulInString, "\(field) contains a NUL character")
            }
            let copy = self.allocate(UInt8.self, count: utf8.count + 1)
            if let base = utf8.baseAddress { copy.initialize(from: base, count: utf8.count) }
            copy[utf8.count] = 0
            return UnsafeMutableRawPointer(copy).assumingMemoryBound(to: CChar.self)
        }
    }

    /// The Swift string of a string protobuf-c unpacked from bytes that ``WireValidator`` checked:
    /// UTF-8 without NUL, so its C length is its length on the wire.
    func liftString(_ pointer: UnsafeMutablePointer<CChar>?, field: StaticString) throws -> String {
        guard let pointer else { return "" }
        let start = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
        return self.liftString(start, count: strlen(pointer), field: field)
    }

    /// The Swift string of `count` bytes that ``WireValidator`` checked (UTF-8 without NUL), reusing the
    /// field's last string when the bytes are the same.
    func liftString(_ start: UnsafePointer<UInt8>, count: Int, field: StaticString) -> String {
        let wire = UnsafeBufferPointer(start: start, count: count)
        let name = UnsafeRawPointer(field.utf8Start)
        var recent: Int?
        for index in self.recentStrings.indices where self.recentStrings[index].field == name {
            recent = index
            // Strings kept here are native (validated UTF-8 from the wire), so withUTF8 never copies.
            let same = self.recentStrings[index].string.withUTF8 { known in
                known.count == wire.count
                    && (wire.isEmpty || memcmp(known.baseAddress!, wire.baseAddress!, wire.count) == 0)
            }
            if same { return self.recentStrings[index].string }
            break
        }
        // Validated already; String(decoding:) checks again (it has no unchecked form), but would
        // repair rather than fail, so a string that slipped past validation could not come out altered
        // without notice: the assertion catches it in debug builds.
        let string = String(decoding: wire, as: UTF8.self)
        assert(string.utf8.count == wire.count, "\(field) was not validated")
        // Worth keeping only if it is not a small string, which lives inline and costs nothing.
        if wire.count > 15 {
            if let recent {
                self.recentStrings[recent].string = string
            } else if self.recentStrings.count < 4 {
                self.recentStrings.append((name, string))
            }
        }
        return string
    }

    /// A copy of `bytes` as protobuf-c's binary data.
    func lowerBytes(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let copy = self.allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { copy.initialize(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: copy)
    }

    /// An initialised C struct for `message`, filled from it.
    func lowerMessage<M: CMessageCodec>(_ message: M) throws -> UnsafeMutablePointer<M.CMessage> {
        let pointer = self.allocate(M.CMessage.self)
        M.cInit(pointer)
        try message.lower(into: pointer, arena: self)
        return pointer
    }

    /// A C array of the lowered elements, nil when there are none.
    func lowerArray<Element, CElement>(
        _ values: [Element],
        _ lower: (Element) throws -> CElement
    ) rethrows -> UnsafeMutablePointer<CElement>? {
        guard !values.isEmpty else { return nil }
        let array = self.allocate(CElement.self, count: values.count)
        for (index, value) in values.enumerated() {
            (array + index).initialize(to: try lower(value))
        }
        return array
    }

    /// The Swift array of a C array that protobuf-c unpacked.
    func liftArray<CElement, Element>(
        _ array: UnsafeMutablePointer<CElement>?,
        count: Int,
        _ lift: (CElement) throws -> Element
    ) rethrows -> [Element] {
        guard let array, count > 0 else { return [] }
        var values: [Element] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            values.append(try lift(array[index]))
        }
        return values
    }
}

/// Conversions of generated code that need no arena.
enum WireRuntime {
    /// The C enum value of a Swift enum value.
    static func lowerEnum<E: WireEnum, C: RawRepresentable>(_ value: E) -> C where C.RawValue: FixedWidthInteger {
        // protoc-c's enums are imported as structs whose init(rawValue:) cannot fail.
        C(rawValue: C.RawValue(truncatingIfNeeded: value.rawValue))!
    }

    /// The Swift enum value of a C enum value.
    /// - Throws: `.invalidArgument` for a value the enum does not define (proto3 lets any int32 through).
    static func liftEnum<E: WireEnum, C: RawRepresentable>(
        _ value: C,
        field: StaticString
    ) throws -> E where C.RawValue: FixedWidthInteger {
        let raw = Int32(truncatingIfNeeded: value.rawValue)
        guard let known = E(rawValue: raw) else {
            throw WireError.invalidArgument(.unknownEnumValue, "\(field): \(raw) is not a value of \(E.protoName)")
        }
        return known
    }

    /// The descriptor protobuf-c's generated init writes into a message of type `M`: read once per type,
    /// from a scratch struct, since Swift cannot take the address of the C constant itself.
    static func descriptor<M: CMessageCodec>(of type: M.Type) -> MessageDescriptor {
        let scratch = UnsafeMutablePointer<M.CMessage>.allocate(capacity: 1)
        defer { scratch.deallocate() }
        M.cInit(scratch)
        // Every protobuf-c message struct starts with ProtobufCMessage, whose first member is the descriptor.
        let pointer = UnsafeRawPointer(scratch).load(as: UnsafePointer<ProtobufCMessageDescriptor>.self)
        return MessageDescriptor(pointer: pointer)
    }

    static func liftBytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard let bytes = data.data, data.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: bytes, count: data.len))
    }
}
