public import NIOCore
import PorticoReasons

/// A linear, allocation-free reader of protobuf's wire format, for what can be known of a body before
/// it is unpacked: how many times a field occurs, and whether the bytes are well formed at all.
///
/// The server asks it, for example, how many items a `BatchCheckPermissionsRequest` holds, so that a
/// batch over its limit is refused after one pass over the bytes instead of after building every item.
/// The same primitives drive the full validation that every decode runs (``WireValidator``).
public enum WireScanner {
    /// How many times field `number` occurs at the top level of `bytes`, every field's tag and length
    /// checked on the way.
    ///
    /// A repeated message or string counts one per element. A packed run of scalars counts once: the
    /// scanner does not know the message's types, and Portico's limits are on repeated messages.
    /// - Throws: ``WireError`` INVALID_ARGUMENT (`MALFORMED_MESSAGE`) when the bytes are not protobuf's
    ///   wire format: a truncated or overlong varint, a length past the end, a bad tag or wire type.
    public static func occurrences(ofField number: Int, in bytes: UnsafeRawBufferPointer) throws(WireError) -> Int {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        var reader = WireReader(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        var count = 0
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readKey()
            try reader.skip(wireType)
            if field == number { count += 1 }
        }
        return count
    }

    /// ``occurrences(ofField:in:)-(_,UnsafeRawBufferPointer)`` over the readable bytes of `buffer`.
    public static func occurrences(ofField number: Int, in buffer: ByteBuffer) throws(WireError) -> Int {
        let result = buffer.withUnsafeReadableBytes { bytes -> Result<Int, WireError> in
            do throws(WireError) {
                return .success(try Self.occurrences(ofField: number, in: bytes))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// A cursor over protobuf wire bytes: varints, keys and skips, each refusing what protobuf-c would
/// refuse and what it would let through with a silently altered value (a varint past 64 bits, a field
/// number past 2^29 - 1).
struct WireReader {
    private(set) var at: UnsafePointer<UInt8>
    let end: UnsafePointer<UInt8>

    init(_ start: UnsafePointer<UInt8>, count: Int) {
        self.at = start
        self.end = start + count
    }

    var isAtEnd: Bool { self.at >= self.end }
    var remaining: Int { self.end - self.at }

    /// The largest field number protobuf allows.
    static let maxFieldNumber = (1 << 29) - 1

    /// A base-128 varint of at most 10 bytes whose value fits 64 bits.
    @inline(__always)
    mutating func readVarint() throws(WireError) -> UInt64 {
        guard self.at < self.end else { throw Self.malformed("a varint is cut short") }
        let first = self.at.pointee
        if first < 0x80 {
            self.at += 1
            return UInt64(first)
        }
        return try self.readLongVarint()
    }

    private mutating func readLongVarint() throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var cursor = self.at
        while true {
            guard cursor < self.end else { throw Self.malformed("a varint is cut short") }
            let byte = cursor.pointee
            cursor += 1
            if shift == 63 {
                // The tenth byte holds the 64th bit alone; more would be an eleventh byte or lost bits.
                guard byte <= 1 else { throw Self.malformed("a varint is longer than 64 bits") }
                result |= UInt64(byte) << 63
                break
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        self.at = cursor
        return result
    }

    /// A field's key: its number (1 to 2^29 - 1) and wire type (not yet checked), in at most 5 bytes as
    /// protobuf-c reads it (a key is a 32-bit varint; padding it longer is refused).
    @inline(__always)
    mutating func readKey() throws(WireError) -> (field: Int, wireType: UInt8) {
        let start = self.at
        let key = try self.readVarint()
        guard self.at - start <= 5 else { throw Self.malformed("a field key is longer than 5 bytes") }
        let field = key >> 3
        guard field != 0, field <= UInt64(Self.maxFieldNumber) else {
            throw Self.malformed("a field number of \(field) is outside 1...\(Self.maxFieldNumber)")
        }
        return (Int(field), UInt8(key & 7))
    }

    /// The length of a length-delimited field, checked against the bytes left, in at most 5 bytes and
    /// below 2^31 as protobuf-c reads it.
    @inline(__always)
    mutating func readLength() throws(WireError) -> Int {
        let start = self.at
        let length = try self.readVarint()
        guard self.at - start <= 5, length <= UInt64(Int32.max) else {
            throw Self.malformed("a length prefix is longer than 5 bytes or 2^31")
        }
        guard length <= UInt64(self.remaining) else {
            throw Self.malformed("a length of \(length) runs past the end of the message")
        }
        return Int(length)
    }

    /// Moves past `count` bytes, which the caller checked are there.
    @inline(__always)
    mutating func advance(by count: Int) {
        self.at += count
    }

    /// Moves past `count` bytes of a fixed-width value.
    @inline(__always)
    mutating func skipFixed(_ count: Int) throws(WireError) {
        guard self.remaining >= count else { throw Self.malformed("a \(count * 8)-bit value is cut short") }
        self.at += count
    }

    /// Moves past the value of a field of `wireType`.
    mutating func skip(_ wireType: UInt8) throws(WireError) {
        switch wireType {
        case 0: _ = try self.readVarint()
        case 1: try self.skipFixed(8)
        case 2: self.at += try self.readLength()
        case 5: try self.skipFixed(4)
        default:
            // 3 and 4 are proto2's groups, which proto3 has not; 6 and 7 do not exist.
            throw Self.malformed("wire type \(wireType) is not allowed")
        }
    }

    static func malformed(_ message: String) -> WireError {
        WireError.invalidArgument(.malformedMessage, "the bytes are not a valid message: \(message)")
    }
}
