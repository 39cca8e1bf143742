public import NIOCore
import PorticoReasons

/// Splits inbound bytes into ``Frame``s: checks the connection preface (server side), enforces the
/// maximum frame size before buffering a frame, and decodes each header.
///
/// A violation throws ``WireError``: the connection cannot be trusted to be in sync any more, so the
/// handler above answers with a GOAWAY carrying the error's status and closes.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame

    private enum State {
        case awaitingPreface
        case frames
    }

    private var state: State
    private let maxFrameBytes: Int
    private let maxHeaderBytes: UInt32
    private let arena: WireArena

    /// - Parameters:
    ///   - maxFrameBytes: the largest frame accepted, length prefix included.
    ///   - maxHeaderBytes: the largest header accepted, refused at the header length before the frame is
    ///     buffered; nil for any that fits the frame. A server decodes a header before it knows who is
    ///     calling, and a header of repeated fields costs far more to decode than its size suggests.
    ///   - expectPreface: true on the server side, where a connection opens with ``WirePreface``.
    public init(maxFrameBytes: Int = Frame.defaultMaxBytes, maxHeaderBytes: Int? = nil, expectPreface: Bool) {
        precondition(maxFrameBytes >= Frame.prefixBytes && maxFrameBytes <= Int(UInt32.max))
        self.maxFrameBytes = maxFrameBytes
        self.maxHeaderBytes = UInt32(clamping: maxHeaderBytes ?? maxFrameBytes)
        self.state = expectPreface ? .awaitingPreface : .frames
        self.arena = WireArena()
    }

    /// Whether the connection's preface is still to come.
    public var isAwaitingPreface: Bool {
        if case .awaitingPreface = self.state { return true }
        return false
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try self.nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while let frame = try self.nextFrame(from: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        if seenEOF && buffer.readableBytes > 0 {
            throw WireError.invalidArgument(
                .truncatedFrame,
                "the connection closed \(buffer.readableBytes) bytes into an incomplete frame"
            )
        }
        return .needMoreData
    }

    /// The next whole frame in `buffer`, consuming its bytes, or nil if more bytes are needed.
    /// - Throws: ``WireError`` for a bad preface, an oversized or malformed frame, or an undecodable header.
    public mutating func nextFrame(from buffer: inout ByteBuffer) throws -> Frame? {
        if case .awaitingPreface = self.state {
            guard try Self.readPreface(from: &buffer) else { return nil }
            self.state = .frames
        }
        // Both lengths in one look at the buffer (each ByteBuffer read costs its own checks).
        let (length, headerLength) = buffer.withUnsafeReadableBytes { raw -> (UInt32?, UInt32) in
            guard raw.count >= 4 else { return (nil, 0) }
            let length = UInt32(bigEndian: raw.loadUnaligned(as: UInt32.self))
            return (
                length, raw.count >= 8 ? UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) : 0
            )
        }
        guard let length else { return nil }
        // Checked before anything is buffered: a 4 GiB prefix is refused at its first 4 bytes.
        guard Int(length) <= self.maxFrameBytes - 4 else {
            throw WireError(
                code: .resourceExhausted,
                reason: .frameTooLarge,
                message: "a frame of \(UInt64(length) + 4) bytes exceeds the limit of \(self.maxFrameBytes) bytes"
            )
        }
        guard length >= 4 else {
            throw WireError.invalidArgument(
                .malformedFrame, "a frame length of \(length) leaves no room for its header length")
        }
        // The header length is checked as soon as it arrives, before the frame is buffered.
        guard buffer.readableBytes >= Frame.prefixBytes else { return nil }
        try self.checkHeaderLength(headerLength)
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        guard headerLength <= length - 4 else {
            throw WireError.invalidArgument(
                .malformedFrame,
                "a header of \(headerLength) bytes does not fit a frame of \(length) bytes"
            )
        }
        buffer.moveReaderIndex(forwardBy: Frame.prefixBytes)
        let headerBytes = buffer.readSlice(length: Int(headerLength))!
        let body = buffer.readSlice(length: Int(length - 4 - headerLength))!
        let header: FrameHeader
        do {
            header = try FrameHeader(decoding: headerBytes, arena: self.arena)
        } catch let error as WireError {
            throw WireError.invalidArgument(.malformedHeader, "the frame header does not decode: \(error.message)")
        }
        return Frame(header: header, body: body)
    }

    /// How many more bytes `buffer` needs before ``nextFrame(from:)`` can take its first frame (or the
    /// preface, or a length prefix that will be refused): 0 when it can act now. A reader that holds a
    /// partial frame appends just this many of the next bytes to complete it, and reads the rest in place.
    public func bytesMissing(in buffer: ByteBuffer) -> Int {
        if case .awaitingPreface = self.state {
            return max(0, WirePreface.bytes.count - buffer.readableBytes)
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return 4 - buffer.readableBytes
        }
        // An oversized or malformed length is refused as soon as it is seen.
        guard Int(length) <= self.maxFrameBytes - 4, length >= 4 else { return 0 }
        // The header length first, so that an oversized header is refused before the frame is buffered.
        guard let headerLength = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) else {
            return Frame.prefixBytes - buffer.readableBytes
        }
        guard headerLength <= self.maxHeaderBytes else { return 0 }
        return max(0, 4 + Int(length) - buffer.readableBytes)
    }

    private func checkHeaderLength(_ headerLength: UInt32) throws {
        guard headerLength <= self.maxHeaderBytes else {
            throw WireError(
                code: .resourceExhausted,
                reason: .frameTooLarge,
                message: "a frame header of \(headerLength) bytes exceeds the limit of \(self.maxHeaderBytes) bytes"
            )
        }
    }

    /// Consumes the preface; false if more bytes are needed. Fails on the first byte that differs.
    private static func readPreface(from buffer: inout ByteBuffer) throws -> Bool {
        let available = min(buffer.readableBytes, WirePreface.bytes.count)
        let seen = buffer.getBytes(at: buffer.readerIndex, length: available) ?? []
        let magicSeen = seen.prefix(WirePreface.magic.count)
        guard magicSeen.elementsEqual(WirePreface.magic.prefix(magicSeen.count)) else {
            throw WireError.invalidArgument(.badPreface, "the connection did not open with the Portico preface")
        }
        guard seen.count == WirePreface.bytes.count else { return false }
        guard seen.last == WirePreface.version else {
            throw WireError(
                code: .unimplemented,
                reason: .unsupportedProtocolVersion,
                message: "protocol version \(seen.last!) is not supported; this peer speaks \(WirePreface.version)"
            )
        }
        buffer.moveReaderIndex(forwardBy: WirePreface.bytes.count)
        return true
    }
}

/// Writes outbound ``Frame``s, refusing any larger than the maximum frame size.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    private let maxFrameBytes: Int
    private let arena: WireArena

    public init(maxFrameBytes: Int = Frame.defaultMaxBytes) {
        self.maxFrameBytes = maxFrameBytes
        self.arena = WireArena()
    }

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try data.write(into: &out, arena: self.arena, maxBytes: self.maxFrameBytes)
    }
}
