import NIOCore
import PorticoWire
import Testing

/// The accumulator turns reads into frames wherever the reads are cut, and copies only what a cut
/// forces it to.
@Suite("FrameAccumulator")
struct FrameAccumulatorTests {
    /// Feeds `reads` one at a time, taking every frame each completes, as a connection handler does.
    static func frames(
        of reads: [ByteBuffer],
        accumulator: inout FrameAccumulator
    ) throws -> [[Frame]] {
        try reads.map { read in
            accumulator.receive(read)
            var taken: [Frame] = []
            while let frame = try accumulator.next() { taken.append(frame) }
            accumulator.endRead(allocator: ByteBufferAllocator())
            return taken
        }
    }

    static func cut(_ bytes: ByteBuffer, at offsets: [Int]) -> [ByteBuffer] {
        var pieces: [ByteBuffer] = []
        var start = 0
        for end in offsets + [bytes.readableBytes] where end >= start {
            pieces.append(bytes.getSlice(at: bytes.readerIndex + start, length: end - start)!)
            start = end
        }
        return pieces
    }

    @Test("frames cut at every offset, alone and in pairs of cuts, come out whole and in order")
    func everyOffset() throws {
        let frames = try FramingTests.sampleFrames
        let wire = try FramingTests.wire(frames)
        for first in 0...wire.readableBytes {
            var accumulator = FrameAccumulator(expectPreface: false)
            let out = try Self.frames(of: Self.cut(wire, at: [first]), accumulator: &accumulator)
            #expect(out.flatMap { $0 } == frames, "cut at \(first)")
            #expect(accumulator.bufferedBytes == 0)
            // Only the frame straddling the cut is copied: at most its own bytes.
            #expect(accumulator.bytesCopied <= frames.map { try! FramingTests.wire([$0]).readableBytes }.max()!)
        }
        for first in stride(from: 0, through: wire.readableBytes, by: 7) {
            for second in stride(from: first, through: wire.readableBytes, by: 5) {
                var accumulator = FrameAccumulator(expectPreface: false)
                let out = try Self.frames(of: Self.cut(wire, at: [first, second]), accumulator: &accumulator)
                #expect(out.flatMap { $0 } == frames, "cuts at \(first), \(second)")
            }
        }
    }

    @Test("the preface split anywhere, then frames: each read yields the frames it completes")
    func prefaceSplit() throws {
        let frames = try FramingTests.sampleFrames
        let wire = try FramingTests.wire(frames, preface: true)
        for cut in 0...(WirePreface.bytes.count + 10) {
            var accumulator = FrameAccumulator(expectPreface: true)
            let out = try Self.frames(of: Self.cut(wire, at: [cut]), accumulator: &accumulator)
            #expect(out.flatMap { $0 } == frames, "cut at \(cut)")
            #expect(!accumulator.isAwaitingPreface)
        }
        // A read ending 2 bytes into a frame's length after the preface: the next read completes it at once.
        let split = WirePreface.bytes.count + 2
        var accumulator = FrameAccumulator(expectPreface: true)
        let out = try Self.frames(of: Self.cut(wire, at: [split]), accumulator: &accumulator)
        #expect(out[0].isEmpty && out[1] == frames)
        // The 2 bytes left by the first read, then the rest of that frame: the frame once, nothing else.
        #expect(accumulator.bytesCopied == (try FramingTests.wire([frames[0]]).readableBytes))
    }

    @Test("a bad preface fails at its first wrong byte, even split")
    func badPreface() throws {
        var accumulator = FrameAccumulator(expectPreface: true)
        accumulator.receive(ByteBuffer(bytes: Array("POR".utf8)))
        #expect(try accumulator.next() == nil)
        accumulator.endRead(allocator: ByteBufferAllocator())
        accumulator.receive(ByteBuffer(bytes: Array("X".utf8)))
        #expect(throws: WireError.self) { try accumulator.next() }
    }

    @Test("a huge length prefix is refused at its fourth byte, split or not, before anything is buffered")
    func hugeLength() throws {
        for cut in 0...4 {
            var accumulator = FrameAccumulator(maxFrameBytes: 1024, expectPreface: false)
            let reads = Self.cut(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]), at: [cut])
            var error: WireError?
            for read in reads {
                accumulator.receive(read)
                do {
                    while try accumulator.next() != nil {}
                } catch let wire as WireError {
                    error = wire
                    break
                }
                accumulator.endRead(allocator: ByteBufferAllocator())
            }
            #expect(error?.code == .resourceExhausted, "cut at \(cut)")
            #expect(accumulator.bytesCopied <= 4)
        }
    }

    @Test("many frames in one read are taken in place: nothing is copied")
    func manyFramesPerRead() throws {
        let ping = try FramingTests.frame(.request(callID: 1, method: .ping), PingRequest())
        let many = Array(repeating: ping, count: 5_000)
        var accumulator = FrameAccumulator(expectPreface: false)
        let out = try Self.frames(of: [try FramingTests.wire(many)], accumulator: &accumulator)
        #expect(out[0].count == 5_000)
        #expect(accumulator.bytesCopied == 0)
    }

    @Test("a large frame in 100-byte reads is copied once, not once per read")
    func largeFrameInSmallReads() throws {
        let batch = BatchCheckPermissionsRequest(
            checks: (1...500).map { CheckItem(assetID: UInt64($0), task: .analyze, subject: .personID(UInt64($0))) }
        )
        let large = try FramingTests.frame(.request(callID: 2, method: .batchCheckPermissions), batch)
        let wire = try FramingTests.wire([large])
        #expect(wire.readableBytes > 4_000)
        var accumulator = FrameAccumulator(expectPreface: false)
        let out = try Self.frames(
            of: Self.cut(wire, at: Array(stride(from: 100, to: wire.readableBytes, by: 100))),
            accumulator: &accumulator
        )
        #expect(out.flatMap { $0 } == [large])
        #expect(accumulator.bytesCopied == wire.readableBytes)
    }

    @Test("a reader that stops early keeps the rest, in order, for later; the next read goes behind it")
    func stopAndResume() throws {
        let frames = (1...6).map { try! FramingTests.frame(.request(callID: UInt64($0), method: .ping), PingRequest()) }
        var accumulator = FrameAccumulator(expectPreface: false)
        accumulator.receive(try FramingTests.wire(Array(frames[0..<4])))
        #expect(try accumulator.next() == frames[0])
        accumulator.endRead(allocator: ByteBufferAllocator())
        #expect(accumulator.bufferedBytes == 3 * (try FramingTests.wire([frames[0]]).readableBytes))
        // Another read arrives while the reader is stopped; then it takes everything, in order.
        accumulator.receive(try FramingTests.wire(Array(frames[4...])))
        accumulator.endRead(allocator: ByteBufferAllocator())
        var taken: [Frame] = []
        while let frame = try accumulator.next() { taken.append(frame) }
        #expect(taken == Array(frames[1...]))
        #expect(accumulator.bufferedBytes == 0)
    }
}
