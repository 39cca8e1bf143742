import NIOCore

/// The check responses written straight into the output buffer, in the bytes protobuf-c's pack writes
/// (fields in number order, proto3 defaults left out, an enum as a sign-extended varint), which the
/// differential test compares byte for byte. A response with an explanation goes through protobuf-c.
extension CheckPermissionResponse {
    /// Writes the response unless it carries an explanation.
    /// - Returns: whether it was written.
    func encodeInPlace(into buffer: inout ByteBuffer) -> Bool {
        guard self.explanation.isEmpty else { return false }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: InPlaceEncoding.maxCheckResponseBytes) { raw in
            InPlaceEncoding.checkResponse(self, into: raw, at: 0)
        }
        return true
    }
}

extension BatchCheckPermissionsResponse {
    /// Writes the response unless one of its results carries an explanation.
    /// - Returns: whether it was written.
    func encodeInPlace(into buffer: inout ByteBuffer) -> Bool {
        for result in self.results where !result.explanation.isEmpty { return false }
        // Each result: its tag and length (2) and at most 13 bytes; then revision (1 + 10).
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: self.results.count * 15 + 11) { raw in
            var at = 0
            for result in self.results {
                raw[at] = 0x0A
                // Its length (at most 13, one byte), once its fields are written after it.
                let end = InPlaceEncoding.result(result.allowed, result.reason, into: raw, at: at + 2)
                raw[at + 1] = UInt8(end - at - 2)
                at = end
            }
            if self.revision != 0 {
                raw[at] = 0x10
                at = InPlaceEncoding.varint(self.revision, into: raw, at: at + 1)
            }
            return at
        }
        return true
    }
}

/// The bytes the in-place encoders write by hand; a response frame's header
/// (`Frame.writeResponse`) writes its call id with them too.
@usableFromInline
enum InPlaceEncoding {
    /// The most bytes a check response without an explanation takes: allowed (2), reason (1 + 10),
    /// revision (1 + 10).
    @inlinable
    static var maxCheckResponseBytes: Int { 24 }

    /// A check response without an explanation at `at`; the next offset.
    @inlinable @inline(__always)
    static func checkResponse(_ response: CheckPermissionResponse, into raw: UnsafeMutableRawBufferPointer, at: Int)
        -> Int
    {
        var at = Self.result(response.allowed, response.reason, into: raw, at: at)
        if response.revision != 0 {
            raw[at] = 0x18
            at = Self.varint(response.revision, into: raw, at: at + 1)
        }
        return at
    }

    /// `allowed` (field 1) and `reason` (field 2), as both responses number them; the next offset.
    @inlinable @inline(__always)
    static func result(_ allowed: Bool, _ reason: DecisionReason, into raw: UnsafeMutableRawBufferPointer, at: Int)
        -> Int
    {
        var at = at
        if allowed {
            raw[at] = 0x08
            raw[at + 1] = 0x01
            at += 2
        }
        if reason.rawValue != 0 {
            raw[at] = 0x10
            // An int32 enum: a negative value goes out sign-extended to 64 bits, in 10 bytes.
            at = Self.varint(UInt64(bitPattern: Int64(reason.rawValue)), into: raw, at: at + 1)
        }
        return at
    }

    /// A base-128 varint at `at`; the next offset.
    @inlinable @inline(__always)
    static func varint(_ value: UInt64, into raw: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        var at = at
        var value = value
        while value >= 0x80 {
            raw[at] = UInt8(truncatingIfNeeded: value) | 0x80
            value >>= 7
            at += 1
        }
        raw[at] = UInt8(value)
        return at + 1
    }
}
