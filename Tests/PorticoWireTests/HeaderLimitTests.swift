import NIOCore
import PorticoReasons
import PorticoWire
import Testing

/// A server decodes a frame's header before it knows who calls: a header over the limit is refused at
/// its length, before any of it is buffered or decoded.
@Suite("Frame header limit")
struct HeaderLimitTests {
    /// The 8 bytes of a frame's lengths: the rest of the frame, and its header.
    static func prefix(frameLength: UInt32, headerLength: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(frameLength)
        buffer.writeInteger(headerLength)
        return buffer
    }

    @Test("a header length over the limit is refused as soon as its 4 bytes arrive, one byte at a time")
    func refusedAtTheLength() throws {
        var accumulator = FrameAccumulator(maxHeaderBytes: Frame.maxRequestHeaderBytes, expectPreface: false)
        let bytes = Self.prefix(frameLength: 3_000_000, headerLength: 2_999_000)
        var thrown: WireError?
        for index in 0..<bytes.readableBytes where thrown == nil {
            accumulator.receive(bytes.getSlice(at: index, length: 1)!)
            do {
                #expect(try accumulator.next() == nil, "byte \(index)")
            } catch let error as WireError {
                #expect(index == 7, "refused at byte \(index), not at the header length's last")
                thrown = error
            }
            accumulator.endRead(allocator: ByteBufferAllocator())
        }
        let error = try #require(thrown)
        #expect(error.code == .resourceExhausted)
        #expect(error.message.contains("header"))
        #expect(accumulator.bufferedBytes <= 8)
    }

    @Test("in one read with the whole frame's first megabyte, the header length is refused without decoding")
    func refusedInOneRead() throws {
        var decoder = FrameDecoder(maxHeaderBytes: 8 * 1024, expectPreface: false)
        var bytes = Self.prefix(frameLength: 1_000_004, headerLength: 1_000_000)
        bytes.writeRepeatingByte(0x08, count: 1_000_000)
        #expect(throws: WireError.self) { _ = try decoder.nextFrame(from: &bytes) }
    }

    @Test("a header at the limit is accepted, and without a limit a larger one still decodes")
    func atTheLimit() throws {
        let credential = String(repeating: "k", count: Frame.maxRequestHeaderBytes - 64)
        var wire = ByteBuffer()
        try Frame(header: .request(callID: 7, method: .ping, credential: credential))
            .write(into: &wire, arena: WireArena())
        let headerLength = Int(wire.getInteger(at: 4, as: UInt32.self)!)
        #expect(headerLength <= Frame.maxRequestHeaderBytes && headerLength > Frame.maxRequestHeaderBytes - 64)
        var limited = FrameAccumulator(maxHeaderBytes: Frame.maxRequestHeaderBytes, expectPreface: false)
        limited.receive(wire)
        #expect(try limited.next()?.header.credential == credential)

        let large = String(repeating: "k", count: 3 * Frame.maxRequestHeaderBytes)
        var largeWire = ByteBuffer()
        try Frame(header: .request(callID: 8, method: .ping, credential: large))
            .write(into: &largeWire, arena: WireArena())
        var unlimited = FrameAccumulator(expectPreface: false)
        unlimited.receive(largeWire)
        #expect(try unlimited.next()?.header.credential == large)
        var limitedAgain = FrameAccumulator(maxHeaderBytes: Frame.maxRequestHeaderBytes, expectPreface: false)
        limitedAgain.receive(largeWire)
        #expect(throws: WireError.self) { _ = try limitedAgain.next() }
    }
}
