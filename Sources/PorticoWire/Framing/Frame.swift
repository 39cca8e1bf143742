public import NIOCore
public import PorticoReasons

/// One frame of the Portico protocol: a header (call id, method, credential, status...) and the
/// protobuf encoding of the request or response message.
///
/// On the wire (docs/protocol.md): `UInt32` big-endian length of the rest of the frame, `UInt32`
/// big-endian length of the header, the encoded ``FrameHeader``, then the body.
public struct Frame: Hashable, Sendable {
    /// Bytes before the header: the frame length and the header length.
    public static let prefixBytes = 8
    /// The largest frame a peer accepts unless configured otherwise: 4 MiB, length prefix included.
    public static let defaultMaxBytes = 4 * 1024 * 1024
    /// The largest header a server accepts in a request: room for a credential, the ids, a deadline and
    /// an idempotency key many times over. A server decodes the header before it knows who calls, so a
    /// larger one is refused at its length, before it is buffered.
    public static let maxRequestHeaderBytes = 8 * 1024

    public var header: FrameHeader
    /// The encoded request or response message; empty for a failed call, CANCEL and GOAWAY.
    public var body: ByteBuffer

    public init(header: FrameHeader, body: ByteBuffer = ByteBuffer()) {
        self.header = header
        self.body = body
    }

    /// Appends the frame to `buffer`.
    /// - Throws: ``WireError`` `.resourceExhausted` when the frame would be larger than `maxBytes`,
    ///   leaving `buffer` as it was; `.invalidArgument` when the header cannot be encoded.
    public func write(into buffer: inout ByteBuffer, arena: WireArena, maxBytes: Int = Frame.defaultMaxBytes) throws {
        try Self.write(header: self.header, into: &buffer, arena: arena, maxBytes: maxBytes) { buffer in
            buffer.writeImmutableBuffer(self.body)
        }
    }

    /// Appends a frame whose body is `message`, encoded straight into `buffer` with no copy between.
    /// - Throws: as ``write(into:arena:maxBytes:)``, and when the message cannot be encoded.
    public static func write(
        header: FrameHeader,
        message: some WireMessage,
        into buffer: inout ByteBuffer,
        arena: WireArena,
        maxBytes: Int = Frame.defaultMaxBytes
    ) throws {
        try Self.write(header: header, into: &buffer, arena: arena, maxBytes: maxBytes) { buffer in
            try message.encode(into: &buffer, arena: arena)
        }
    }

    /// Appends a successful RESPONSE frame for `callID` with `message` as its body: the same bytes as
    /// ``write(header:message:into:arena:maxBytes:)`` with `.response(callID:)`, but the header (kind
    /// and call id, every other field at its default) is written directly instead of through a C
    /// struct, since every answer of every call starts with one. The body goes through protobuf-c.
    @inlinable
    public static func writeResponse(
        callID: UInt64,
        message: some WireMessage,
        into buffer: inout ByteBuffer,
        arena: WireArena,
        maxBytes: Int = Frame.defaultMaxBytes
    ) throws {
        let start = buffer.writerIndex
        do {
            // The prefix and header in one reservation of the buffer: each separate ByteBuffer write
            // costs a uniqueness and exclusivity check, which on this path is most of the cost.
            // 8 bytes of lengths, kind (2), call_id's tag (1) and its varint (at most 10).
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 8 + 2 + 1 + 10) { raw in
                // Lengths are patched below; kind (1) = RESPONSE (2); call_id (2), omitted when 0 as
                // proto3 omits defaults.
                raw.storeBytes(of: 0, toByteOffset: 0, as: UInt64.self)
                raw[8] = 0x08
                raw[9] = 0x02
                guard callID != 0 else { return 10 }
                raw[10] = 0x10
                return InPlaceEncoding.varint(callID, into: raw, at: 11)
            }
            let headerBytes = buffer.writerIndex - start - Self.prefixBytes
            try message.encode(into: &buffer, arena: arena)
            try Self.seal(&buffer, start: start, headerBytes: headerBytes, maxBytes: maxBytes)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    private static func write(
        header: FrameHeader,
        into buffer: inout ByteBuffer,
        arena: WireArena,
        maxBytes: Int,
        body: (inout ByteBuffer) throws -> Void
    ) throws {
        let start = buffer.writerIndex
        do {
            buffer.writeInteger(UInt32(0))
            buffer.writeInteger(UInt32(0))
            try header.encode(into: &buffer, arena: arena)
            let headerBytes = buffer.writerIndex - start - Self.prefixBytes
            try body(&buffer)
            try Self.seal(&buffer, start: start, headerBytes: headerBytes, maxBytes: maxBytes)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Ends a frame written from `start`: refuses it when larger than `maxBytes`, else fills in its two
    /// length words (in one access to the buffer). The caller rolls the buffer back on a throw.
    @usableFromInline
    static func seal(_ buffer: inout ByteBuffer, start: Int, headerBytes: Int, maxBytes: Int) throws {
        let frameBytes = buffer.writerIndex - start
        guard frameBytes <= maxBytes else {
            throw WireError(
                code: .resourceExhausted,
                reason: .frameTooLarge,
                message: "a frame of \(frameBytes) bytes exceeds the limit of \(maxBytes) bytes"
            )
        }
        let offset = start - buffer.readerIndex
        buffer.withUnsafeMutableReadableBytes { raw in
            raw.storeBytes(of: UInt32(frameBytes - 4).bigEndian, toByteOffset: offset, as: UInt32.self)
            raw.storeBytes(of: UInt32(headerBytes).bigEndian, toByteOffset: offset + 4, as: UInt32.self)
        }
    }
}

/// The 8 bytes a client sends once, before its first frame: "PORTICO" and the protocol version.
public enum WirePreface {
    /// The protocol version this implementation speaks.
    public static let version: UInt8 = 1
    /// "PORTICO" in ASCII.
    public static let magic: [UInt8] = Array("PORTICO".utf8)
    /// The whole preface: magic then version.
    public static let bytes: [UInt8] = magic + [version]
}

extension FrameHeader {
    /// The header of a call.
    public static func request(
        callID: UInt64,
        method: Method,
        credential: String = "",
        onBehalfOfPersonID: UInt64 = 0,
        timeoutMicros: UInt64 = 0,
        idempotencyKey: String = ""
    ) -> FrameHeader {
        FrameHeader(
            kind: .request,
            callID: callID,
            method: UInt32(method.rawValue),
            credential: credential,
            onBehalfOfPersonID: onBehalfOfPersonID,
            timeoutMicros: timeoutMicros,
            idempotencyKey: idempotencyKey
        )
    }

    /// The RPC a request calls, or nil when this version does not know the method number.
    public var knownMethod: Method? {
        guard self.method <= UInt32(Int32.max), let method = Method(rawValue: Int32(self.method)),
            method != .unspecified
        else { return nil }
        return method
    }

    /// The header of a successful answer.
    public static func response(callID: UInt64) -> FrameHeader {
        FrameHeader(kind: .response, callID: callID)
    }

    /// The header of a failed answer.
    public static func failure(callID: UInt64, _ error: WireError) -> FrameHeader {
        FrameHeader(
            kind: .response,
            callID: callID,
            statusCode: error.code,
            statusMessage: error.message,
            errorDetail: ErrorDetail(reason: error.reason)
        )
    }

    /// The header of a GOAWAY: no new calls; calls up to `lastCallID` will still be answered. A GOAWAY
    /// for a fault of the connection's own bytes carries the fault's reason, as a failed answer does.
    public static func goAway(
        lastCallID: UInt64, status: StatusCode = .unavailable, message: String, reason: ErrorReason? = nil
    ) -> FrameHeader {
        FrameHeader(
            kind: .goaway, statusCode: status, statusMessage: message,
            errorDetail: reason.map { ErrorDetail(reason: $0.rawValue) }, lastCallID: lastCallID)
    }
}
