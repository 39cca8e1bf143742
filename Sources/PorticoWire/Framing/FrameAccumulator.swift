public import NIOCore

/// Turns the reads of a connection into whole ``Frame``s, completing a frame split across reads.
///
/// A read's bytes are parsed where they lie: frames are slices of the read buffer, nothing is copied.
/// Only the bytes of a frame cut by the end of a read are copied, into the accumulator's own buffer,
/// which the next read completes by just the bytes missing before it too is parsed in place. A large
/// frame arriving in many small reads is appended to that one buffer, so it is copied once, not once per
/// read. The reader may also stop taking frames before a read is used up (a connection that must not
/// answer more until its client reads): what is left is kept, in order, for the next ``next()``.
///
/// Used by both ends of a connection: ``receive(_:)`` a read, ``next()`` until nil, then
/// ``endRead(allocator:)``, which lets go of the read buffer so that the channel can reuse it.
public struct FrameAccumulator {
    private var decoder: FrameDecoder
    /// Bytes of earlier reads not yet taken: a frame cut by the end of a read, or frames held back.
    private var held: ByteBuffer?
    /// The read being parsed, consumed in place.
    private var read = ByteBuffer()
    /// Bytes copied into ``held`` so far: what splitting costs, for tests to bound.
    public private(set) var bytesCopied = 0

    /// - Parameters:
    ///   - maxFrameBytes: the largest frame accepted, length prefix included.
    ///   - expectPreface: true on the server side, where a connection opens with ``WirePreface``.
    public init(maxFrameBytes: Int = Frame.defaultMaxBytes, expectPreface: Bool) {
        self.decoder = FrameDecoder(maxFrameBytes: maxFrameBytes, expectPreface: expectPreface)
    }

    /// Bytes received and not yet taken as frames.
    public var bufferedBytes: Int { (self.held?.readableBytes ?? 0) + self.read.readableBytes }

    /// Whether the connection's preface is still to come (server side).
    public var isAwaitingPreface: Bool { self.decoder.isAwaitingPreface }

    /// Starts on the bytes of a new read; those left from earlier reads come first.
    public mutating func receive(_ bytes: ByteBuffer) {
        // A read not ended: its rest goes before the new bytes.
        if self.read.readableBytes > 0 { self.keepRest() }
        self.read = bytes
    }

    /// The next whole frame, consuming its bytes, or nil when more bytes are needed.
    /// - Throws: ``WireError`` for a bad preface, an oversized or malformed frame, or an undecodable
    ///   header; the connection cannot be trusted to be in sync after one.
    public mutating func next() throws -> Frame? {
        if self.held != nil {
            if let frame = try self.nextFromHeld() { return frame }
            if self.held != nil { return nil }
        }
        return try self.decoder.nextFrame(from: &self.read)
    }

    /// Ends a read: keeps what was not taken (copying it out of the read buffer) and lets go of the buffer.
    public mutating func endRead(allocator: ByteBufferAllocator) {
        if self.read.readableBytes > 0 {
            if self.held == nil {
                self.held = allocator.buffer(capacity: max(self.read.readableBytes, 256))
            }
            self.keepRest()
        }
        self.read = ByteBuffer()
    }

    /// Appends the rest of the read to ``held``, which must exist or is created.
    private mutating func keepRest() {
        if self.held == nil { self.held = ByteBuffer() }
        self.bytesCopied += self.read.readableBytes
        self.held!.writeBuffer(&self.read)
    }

    /// A frame from the held bytes, completed from the read if they hold only its beginning; nil when
    /// the read cannot complete it (then the whole read has been appended to the held bytes).
    private mutating func nextFromHeld() throws -> Frame? {
        while var held = self.held {
            // Moved out so that the buffer is uniquely referenced while it grows.
            self.held = nil
            let missing = self.decoder.bytesMissing(in: held)
            if missing == 0 || self.decoder.isAwaitingPreface {
                // A preface is checked byte by byte as it arrives: a wrong one fails at once.
                let taken = min(missing, self.read.readableBytes)
                if taken > 0 {
                    var completion = self.read.readSlice(length: taken)!
                    self.bytesCopied += taken
                    held.writeBuffer(&completion)
                }
                let frame = try self.decoder.nextFrame(from: &held)
                self.held = held.readableBytes > 0 ? held : nil
                if let frame { return frame }
                // Still in the preface: the read is used up. Otherwise the preface was taken (or a frame
                // has only begun): go on completing what is held, if anything.
                if self.decoder.isAwaitingPreface { return nil }
            } else if missing <= self.read.readableBytes {
                var completion = self.read.readSlice(length: missing)!
                self.bytesCopied += missing
                held.writeBuffer(&completion)
                self.held = held
            } else {
                self.bytesCopied += self.read.readableBytes
                held.writeBuffer(&self.read)
                self.held = held
                return nil
            }
        }
        return nil
    }
}
