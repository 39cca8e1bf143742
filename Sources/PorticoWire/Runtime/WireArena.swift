import CPorticoProto
import CProtobufC

/// Scratch memory for the C side of encoding and decoding: the C structs handed to protobuf-c's
/// `pack`, and everything protobuf-c's `unpack` allocates.
///
/// The arena is the single owner of that C memory. Every allocation is freed together by ``reset()``,
/// which encode and decode call on every path once the Swift value is built, and by `deinit`. Steady
/// state reuses the first chunk, so a connection that keeps one arena does not call malloc per message.
///
/// Chunks beyond the first grow geometrically, so a 4 MiB frame that unpacks into tens of megabytes
/// takes a few dozen mallocs, and nothing ever searches the chunks: decoding stays linear in the
/// frame's size. ``work`` counts what the arena served, so tests can bound decoding in work units.
///
/// An arena is not thread-safe and not `Sendable`: it belongs to one connection or one task.
public final class WireArena {
    private static let alignment = 8
    /// The largest chunk the arena mallocs for many small allocations; a larger single allocation
    /// still gets a chunk of its own size.
    private static let maxGrowthBytes = 1 << 20

    /// Work done on behalf of decoding since the arena was made; never reset. For tests and benchmarks
    /// that bound a decode's cost in work units, not time.
    public struct Work: Sendable, Hashable {
        /// Allocations protobuf-c and the lowering code asked for.
        public var allocations = 0
        /// Bytes those allocations asked for.
        public var allocatedBytes = 0
        /// Chunks malloc'd beyond the first.
        public var chunks = 0
        /// Fields (and packed elements) the validation pass read.
        public var fieldsValidated = 0
        /// Bytes of strings the validation pass checked.
        public var stringBytesValidated = 0

        /// Every counter summed, bytes counted by the 8-byte word: one figure to compare with a
        /// frame's size.
        public var units: Int {
            self.allocations + self.allocatedBytes / 8 + self.chunks + self.fieldsValidated
                + self.stringBytesValidated / 8
        }
    }

    /// What the arena has served so far.
    @exclusivity(unchecked) public internal(set) var work = Work()

    // Touched several times per message and only ever by the one owner (the arena is not Sendable),
    // so the runtime's dynamic exclusivity checks would only add cost.
    @exclusivity(unchecked) private var chunks: [UnsafeMutableRawBufferPointer] = []
    @exclusivity(unchecked) private var cursor: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var end: UnsafeMutableRawPointer
    private let chunkBytes: Int
    /// The last string lifted for each of a few fields, by the address of the field's name: a
    /// connection sends the same credential (and often the same token) call after call, and reusing
    /// the String saves an allocation and a UTF-8 validation each time.
    @exclusivity(unchecked) var recentStrings: [(field: UnsafeRawPointer, string: String)] = []

    /// protobuf-c's allocator interface, pointing back at this arena; `unpack` allocates through it.
    let allocator: UnsafeMutablePointer<ProtobufCAllocator>

    /// - Parameter chunkBytes: the size of the chunk kept between messages; larger needs get chunks of
    ///   their own, freed at the next reset.
    public init(chunkBytes: Int = 4096) {
        self.chunkBytes = max(chunkBytes, 64)
        let first = UnsafeMutableRawBufferPointer.allocate(byteCount: self.chunkBytes, alignment: Self.alignment)
        self.chunks = [first]
        self.cursor = first.baseAddress!
        self.end = first.baseAddress! + first.count
        self.allocator = .allocate(capacity: 1)
        self.allocator.initialize(
            to: ProtobufCAllocator(
                alloc: { data, size in
                    // The arena outlives every unpack it serves: no retain and release per allocation.
                    Unmanaged<WireArena>.fromOpaque(data!)._withUnsafeGuaranteedRef { $0.allocate(byteCount: size) }
                },
                // Everything is freed at once by reset(); protobuf-c's frees (of a field repeated on the
                // wire, or of a half-built message after a failure) can wait until then.
                free: { _, _ in },
                allocator_data: Unmanaged.passUnretained(self).toOpaque()
            )
        )
    }

    deinit {
        for chunk in self.chunks { chunk.deallocate() }
        self.allocator.deallocate()
    }

    /// Frees every allocation but keeps the first chunk for the next message.
    public func reset() {
        if self.chunks.count > 1 {
            for chunk in self.chunks.dropFirst() { chunk.deallocate() }
            self.chunks.removeSubrange(1...)
        }
        self.cursor = self.chunks[0].baseAddress!
        self.end = self.cursor + self.chunks[0].count
    }

    /// Raw memory aligned for any C type protobuf-c uses, valid until the next reset.
    func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        self.work.allocations &+= 1
        self.work.allocatedBytes &+= byteCount
        let needed = (byteCount + Self.alignment - 1) & ~(Self.alignment - 1)
        if self.end - self.cursor < needed {
            self.addChunk(for: needed)
        }
        let result = self.cursor
        self.cursor += needed
        return result
    }

    /// Starts a chunk with room for `needed` bytes: twice the previous chunk's size, up to
    /// `maxGrowthBytes`, so n bytes of small allocations take O(log n + n / maxGrowthBytes) mallocs.
    private func addChunk(for needed: Int) {
        let previous = self.chunks[self.chunks.count - 1].count
        let grown = min(max(previous * 2, self.chunkBytes), Self.maxGrowthBytes)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: max(needed, grown), alignment: Self.alignment)
        self.work.chunks &+= 1
        self.chunks.append(chunk)
        self.cursor = chunk.baseAddress!
        self.end = self.cursor + chunk.count
    }

    /// Typed memory for `count` values of `type`.
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.alignment <= Self.alignment, "C type aligned beyond the arena's guarantee")
        return self.allocate(byteCount: MemoryLayout<T>.stride * count).bindMemory(to: T.self, capacity: count)
    }
}
