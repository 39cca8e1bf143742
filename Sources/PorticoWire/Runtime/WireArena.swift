import CPorticoProto
import CProtobufC

/// Scratch memory for the C side of encoding and decoding: the C structs handed to protobuf-c's
/// `pack`, and everything protobuf-c's `unpack` allocates.
///
/// The arena is the single owner of that C memory. Every allocation is freed together by ``reset()``,
/// which encode and decode call on every path once the Swift value is built, and by `deinit`. Steady
/// state reuses the first chunk, so a connection that keeps one arena does not call malloc per message.
///
/// Each allocation is preceded by its size. That lets decoding tell a string protobuf-c cut short at
/// an embedded NUL (its allocation is longer than `strlen` + 1) from a genuine one.
///
/// An arena is not thread-safe and not `Sendable`: it belongs to one connection or one task.
public final class WireArena {
    private static let headerBytes = 8
    private static let alignment = 8

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
        let needed = (Self.headerBytes + byteCount + Self.alignment - 1) & ~(Self.alignment - 1)
        if self.end - self.cursor < needed {
            let chunk = UnsafeMutableRawBufferPointer.allocate(
                byteCount: max(needed, self.chunkBytes),
                alignment: Self.alignment
            )
            self.chunks.append(chunk)
            self.cursor = chunk.baseAddress!
            self.end = self.cursor + chunk.count
        }
        self.cursor.storeBytes(of: UInt64(byteCount), as: UInt64.self)
        let result = self.cursor + Self.headerBytes
        self.cursor += needed
        return result
    }

    /// The byte count `pointer` was allocated with, or nil when the arena did not allocate it (as for
    /// protobuf-c's shared empty string).
    func allocatedByteCount(of pointer: UnsafeRawPointer) -> Int? {
        for chunk in self.chunks {
            let start = UnsafeRawPointer(chunk.baseAddress!)
            if pointer >= start + Self.headerBytes && pointer < start + chunk.count {
                return Int((pointer - Self.headerBytes).load(as: UInt64.self))
            }
        }
        return nil
    }

    /// Typed memory for `count` values of `type`.
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.alignment <= Self.alignment, "C type aligned beyond the arena's guarantee")
        return self.allocate(byteCount: MemoryLayout<T>.stride * count).bindMemory(to: T.self, capacity: count)
    }
}
