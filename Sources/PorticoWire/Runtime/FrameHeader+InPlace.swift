import CPorticoProto
import CProtobufC

/// Every frame's header decoded where its bytes lie: one per call each way.
extension FrameHeader {
    /// - Throws: what the codec of record (validation, then protobuf-c) throws for the same bytes.
    static func decodeInPlace(_ bytes: UnsafeRawBufferPointer, arena: WireArena) throws(WireError) -> FrameHeader? {
        guard !bytes.isEmpty else { return FrameHeader() }
        // Each field in a local, the value built once at the end: a FrameHeader (three strings, an
        // optional detail) filled in place was copied and destroyed twice on its way out, some 400
        // instructions per call (callgrind).
        var kind = FrameKind.unspecified
        var callID: UInt64 = 0
        var method: UInt32 = 0
        var credential = ""
        var onBehalfOfPersonID: UInt64 = 0
        var timeoutMicros: UInt64 = 0
        var statusCode = StatusCode.ok
        var statusMessage = ""
        var errorDetail: ErrorDetail?
        var lastCallID: UInt64 = 0
        var fields = InPlaceFieldReader(bytes, Self.cDescriptor, arena: arena)
        var seenMessages: UInt64 = 0
        while let (number, field, value) = try fields.next() {
            switch number {
            case 1: kind = InPlaceFieldReader.enumValue(value, FrameKind.self)
            case 2: callID = InPlaceFieldReader.varint(value)
            // A uint32 keeps the varint's low 32 bits, as protobuf-c does.
            case 3: method = UInt32(truncatingIfNeeded: InPlaceFieldReader.varint(value))
            case 4: credential = fields.string(value, field: "portico.v1.FrameHeader.credential")
            case 5: onBehalfOfPersonID = InPlaceFieldReader.varint(value)
            case 6: timeoutMicros = InPlaceFieldReader.varint(value)
            case 7: statusCode = InPlaceFieldReader.enumValue(value, StatusCode.self)
            case 8: statusMessage = fields.string(value, field: "portico.v1.FrameHeader.status_message")
            case 9:
                guard case .bytes(let start, let count) = value else { continue }
                let index = field - Self.cDescriptor.pointer.pointee.fields
                try WireValidator.noteMessage(index, &seenMessages, field, Self.cDescriptor.pointer)
                let nested = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                guard let detail = try ErrorDetail.decodeInPlace(start, count, nested, arena: arena) else { return nil }
                errorDetail = detail
            case 10: lastCallID = InPlaceFieldReader.varint(value)
            // A field this decoder does not take (added to the .proto since): protobuf-c decodes the header.
            default: return nil
            }
        }
        return FrameHeader(
            kind: kind, callID: callID, method: method, credential: credential,
            onBehalfOfPersonID: onBehalfOfPersonID, timeoutMicros: timeoutMicros, statusCode: statusCode,
            statusMessage: statusMessage, errorDetail: errorDetail, lastCallID: lastCallID)
    }
}

extension ErrorDetail {
    /// A failed answer's detail, from its bytes inside the header's.
    static func decodeInPlace(
        _ start: UnsafePointer<UInt8>,
        _ count: Int,
        _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        arena: WireArena
    ) throws(WireError) -> ErrorDetail? {
        var detail = ErrorDetail()
        var fields = InPlaceFieldReader(start, count, descriptor, arena)
        while let (number, _, value) = try fields.next() {
            switch number {
            case 1: detail.reason = fields.string(value, field: "portico.v1.ErrorDetail.reason")
            // An int32 keeps the varint's low 32 bits (a negative one is sent in 10 bytes).
            case 2: detail.metaCode = Int32(truncatingIfNeeded: InPlaceFieldReader.varint(value))
            case 3: detail.metaSubcode = Int32(truncatingIfNeeded: InPlaceFieldReader.varint(value))
            case 4: detail.field = fields.string(value, field: "portico.v1.ErrorDetail.field")
            default: return nil
            }
        }
        return detail
    }
}
