import HashTreeCollections

/// Every change's audit event, oldest first, kept as compact bytes rather than Swift values.
///
/// An event as a struct costs about 250 resident bytes (its fields, the target string and the effects
/// array on the heap); encoded it is a few dozen. Events are read rarely (audit pages), so decoding on
/// read is the better trade. Revisions are contiguous from 1, so an event's place follows from its
/// revision: chunks of `chunkSize` events, sealed ones in a persistent map, the last one growing. A
/// write copies at most one open chunk; snapshots share everything else.
public struct AuditLog: Hashable, Sendable {
    /// Events per chunk: small enough that copying the open one is cheap, large enough that the map
    /// of sealed chunks stays small.
    static let chunkSize = 128

    /// The encoded events of one chunk, back to back, and where each ends.
    struct Chunk: Hashable, Sendable {
        var bytes: [UInt8] = []
        var ends: [UInt32] = []

        /// The same events in buffers of exactly their size (a growing array keeps spare capacity).
        func sealed() -> Chunk {
            Chunk(bytes: Array(unsafeUninitializedCapacity: bytes.count) { buffer, count in
                      count = buffer.initialize(fromContentsOf: bytes)
                  },
                  ends: Array(unsafeUninitializedCapacity: ends.count) { buffer, count in
                      count = buffer.initialize(fromContentsOf: ends)
                  })
        }

        func event(at index: Int, revision: Revision) -> AuditEvent? {
            guard index < ends.count else { return nil }
            let start = index == 0 ? 0 : Int(ends[index - 1])
            var reader = AuditEventReader(bytes: bytes[start..<Int(ends[index])])
            return reader.event(revision: revision)
        }
    }

    private var sealed = TreeDictionary<Int, Chunk>()
    private var open = Chunk()
    /// How many events the log holds; the last one's revision.
    public private(set) var count = 0

    public init() {}

    /// The event of `revision`, or nil when there is none.
    public subscript(revision: Revision) -> AuditEvent? {
        guard revision >= 1, revision <= UInt64(count) else { return nil }
        let position = Int(revision - 1)
        let (chunk, index) = position.quotientAndRemainder(dividingBy: Self.chunkSize)
        if chunk == count / Self.chunkSize { return open.event(at: index, revision: revision) }
        return sealed[chunk]?.event(at: index, revision: revision)
    }

    /// The events as their encoded chunks, oldest first: the first revision of each, its events back to
    /// back, and where each event ends. A checkpoint stores them as they are (docs/storage.md).
    public func forEachChunk(_ body: (_ first: Revision, _ events: [UInt8], _ ends: [UInt32]) throws -> Void) rethrows {
        for index in 0..<count / Self.chunkSize {
            guard let chunk = sealed[index] else { continue }
            try body(Revision(index * Self.chunkSize + 1), chunk.bytes, chunk.ends)
        }
        if !open.ends.isEmpty {
            try body(Revision(count - open.ends.count + 1), open.bytes, open.ends)
        }
    }

    /// Appends a chunk `forEachChunk` gave: whole chunks, then at most one partial chunk, last.
    /// - Returns: false (and changes nothing) when the chunk does not fit there or its ends are not
    ///   increasing within its bytes.
    mutating func restore(events: [UInt8], ends: [UInt32]) -> Bool {
        guard open.ends.isEmpty, !ends.isEmpty, ends.count <= Self.chunkSize,
              ends.last.map({ Int($0) == events.count }) == true,
              zip([0] + ends, ends).allSatisfy({ $0 < $1 })
        else { return false }
        if ends.count == Self.chunkSize {
            sealed[count / Self.chunkSize] = Chunk(bytes: events, ends: ends)
        } else {
            open = Chunk(bytes: events, ends: ends)
        }
        count += ends.count
        return true
    }

    /// Appends the event of the next revision.
    mutating func append(_ event: AuditEvent) {
        precondition(event.revision == UInt64(count) + 1, "audit events are appended in revision order")
        var writer = AuditEventWriter(bytes: open.bytes)
        open.bytes = []  // so that the append below does not copy the buffer
        writer.write(event)
        open.bytes = writer.bytes
        open.ends.append(UInt32(open.bytes.count))
        count += 1
        if count % Self.chunkSize == 0 {
            sealed[count / Self.chunkSize - 1] = open.sealed()
            open = Chunk()
        }
    }
}
