public import NIOCore

extension Frame {
    /// Appends the successful RESPONSE frame of a check, `response` its body: the same bytes as
    /// ``writeResponse(callID:message:into:arena:maxBytes:)``, but the whole frame (lengths, header and
    /// body) in one reservation of the buffer. The check is the server's most frequent answer, and each
    /// separate write to a `ByteBuffer` costs its uniqueness check and, where SwiftNIO's code is inlined
    /// into a module that keeps them, a dynamic exclusivity check (some 75 instructions each).
    ///
    /// Inlinable: the server specializes it into its own module.
    /// - Returns: false, with nothing written, for a response with an explanation (protobuf-c packs
    ///   those) or a frame larger than `maxBytes`.
    @inlinable
    public static func writeResponse(
        callID: UInt64,
        check response: CheckPermissionResponse,
        into buffer: inout ByteBuffer,
        maxBytes: Int = Frame.defaultMaxBytes
    ) -> Bool {
        guard response.explanation.isEmpty else { return false }
        var written = false
        // Lengths (8), kind (2), call_id's tag and varint (11), then the body.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 8 + 13 + InPlaceEncoding.maxCheckResponseBytes) {
            raw in
            // kind (1) = RESPONSE (2); call_id (2), omitted when 0 as proto3 omits defaults.
            raw[8] = 0x08
            raw[9] = 0x02
            var at = 10
            if callID != 0 {
                raw[10] = 0x10
                at = InPlaceEncoding.varint(callID, into: raw, at: 11)
            }
            let headerBytes = at - 8
            at = InPlaceEncoding.checkResponse(response, into: raw, at: at)
            guard at <= maxBytes else { return 0 }
            raw.storeBytes(of: UInt32(at - 4).bigEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: UInt32(headerBytes).bigEndian, toByteOffset: 4, as: UInt32.self)
            written = true
            return at
        }
        return written
    }
}
