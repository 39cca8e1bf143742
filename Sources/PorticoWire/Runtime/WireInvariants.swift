import CPorticoProto
import CProtobufC
import NIOCore

/// The wire layer's promises about arbitrary input, checked on one input at a time: what the fuzzer
/// (fuzz/) asserts on every input it makes, and what the tests assert on the committed corpus.
///
/// The input's first byte picks the decoder, the rest is what it decodes:
/// - 0: the frame decoder, over a stream cut into reads of sizes the input's second byte sets;
/// - 1...: one message type of ``PorticoMessages/all`` (`FrameHeader` among them), by index.
public enum WireInvariants {
    /// How many decoders the first byte chooses among; larger values wrap.
    public static var targetCount: Int { 1 + PorticoMessages.all.count }

    /// Work units a decode may cost per input byte, beyond a constant. The costliest byte is half of an
    /// empty element of a repeated message (2 bytes on the wire): it unpacks into a struct of its own,
    /// so the bound grows with the largest struct: about 3.5 units for the scan, the pointer and the
    /// allocation, plus the struct's 8-byte words, per 2 bytes.
    public static let unitsPerByte: Int = {
        let largest = PorticoMessages.all.compactMap { ($0 as? any CMessageCodec.Type)?.cDescriptor.pointer }
            .map { $0.pointee.sizeof_message }.max() ?? 0
        return 4 + (largest + 15) / 16
    }()
    static let fixedUnits = 256

    /// The largest frame the checked frame decoder accepts: small, so that inputs reach the limit.
    static let maxFrameBytes = 4096

    /// A broken promise: what was decoded, and how the result differs from the rule.
    public struct Violation: Error, CustomStringConvertible {
        public var description: String
    }

    /// Checks every promise for `input`, with `arena` as the decoding arena a connection would keep
    /// (reused across inputs, so state it keeps between messages is checked too).
    /// - Returns: the first promise broken, or nil.
    public static func check(_ input: UnsafeRawBufferPointer, arena: WireArena) -> Violation? {
        guard let selector = input.first else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        let target = Int(selector) % Self.targetCount
        do {
            if target == 0 {
                try Self.checkFrames(rest)
            } else {
                try PorticoMessages.all[target - 1].checkInvariants(rest, arena: arena)
            }
            return nil
        } catch let violation as Violation {
            return violation
        } catch {
            return Violation(description: "unexpected \(error)")
        }
    }

    static func checkCost<M: WireMessage>(_ type: M.Type, _ units: Int, _ bytes: Int) throws {
        guard units <= Self.fixedUnits + Self.unitsPerByte * bytes else {
            throw Violation(description: "\(M.protoName): \(units) work units for \(bytes) bytes")
        }
    }

    /// The frame decoder gives the same frames and the same error whether the stream arrives whole or
    /// in small reads; ``FrameDecoder/bytesMissing(in:)`` is 0 exactly when it can act; every error is
    /// a ``WireError``; every header it decodes round-trips.
    static func checkFrames(_ input: UnsafeRawBufferPointer) throws {
        guard let first = input.first else { return }
        let stream = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        let whole = try Self.frames(stream, readSize: stream.count, preface: first & 0x80 != 0)
        let pieces = try Self.frames(stream, readSize: Int(first & 0x7F) + 1, preface: first & 0x80 != 0)
        guard whole.frames == pieces.frames, whole.error == pieces.error else {
            throw Violation(description: "frames: whole \(whole), in reads of \(Int(first & 0x7F) + 1): \(pieces)")
        }
        for frame in whole.frames {
            var buffer = ByteBuffer()
            try frame.write(into: &buffer, arena: WireArena(), maxBytes: .max)
            var decoder = FrameDecoder(maxFrameBytes: .max >> 33, expectPreface: false)
            guard let again = try decoder.nextFrame(from: &buffer), again == frame, buffer.readableBytes == 0 else {
                throw Violation(description: "frames: \(frame) does not survive a write and a read")
            }
        }
    }

    static func frames(
        _ stream: UnsafeRawBufferPointer,
        readSize: Int,
        preface: Bool
    ) throws -> (frames: [Frame], error: WireError?) {
        var decoder = FrameDecoder(maxFrameBytes: Self.maxFrameBytes, expectPreface: preface)
        var buffer = ByteBuffer()
        var frames: [Frame] = []
        var offset = 0
        repeat {
            let count = min(readSize, stream.count - offset)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: stream[offset..<offset + count]))
            offset += count
            while true {
                let missing = decoder.bytesMissing(in: buffer)
                let frame: Frame?
                do {
                    frame = try decoder.nextFrame(from: &buffer)
                } catch let error as WireError {
                    return (frames, error)
                }
                guard let frame else {
                    // Having taken nothing, it must say how much more it needs.
                    guard decoder.bytesMissing(in: buffer) > 0 else {
                        throw Violation(description: "frames: nothing taken, yet nothing missing")
                    }
                    break
                }
                guard missing == 0 else {
                    throw Violation(description: "frames: a frame taken while \(missing) bytes were missing")
                }
                frames.append(frame)
            }
        } while offset < stream.count
        return (frames, nil)
    }
}

extension WireMessage {
    /// Decoding either refuses with INVALID_ARGUMENT, or gives a value that encodes, decodes to itself,
    /// encodes to the same bytes again, decodes the same from a fresh arena, and cost linear work.
    static func checkInvariants(_ bytes: UnsafeRawBufferPointer, arena: WireArena) throws {
        typealias M = Self
        let before = arena.work.units
        let decoded: M
        do {
            decoded = try M(decoding: bytes, arena: arena)
        } catch let error as WireError {
            guard error.code == .invalidArgument, !error.reason.isEmpty else {
                throw WireInvariants.Violation(description: "\(M.protoName): refused with \(error)")
            }
            try WireInvariants.checkCost(M.self, arena.work.units - before, bytes.count)
            if let codec = M.self as? any CMessageCodec.Type {
                try codec.checkBothPaths(bytes)
            }
            return
        }
        try WireInvariants.checkCost(M.self, arena.work.units - before, bytes.count)
        let fresh = try M(decoding: bytes, arena: WireArena())
        guard fresh == decoded else {
            throw WireInvariants.Violation(
                description: "\(M.protoName): a fresh arena decodes \(fresh), a used one \(decoded)"
            )
        }
        var encoded = ByteBuffer()
        try decoded.encode(into: &encoded, arena: arena)
        let again = try M(decoding: encoded, arena: arena)
        guard again == decoded else {
            throw WireInvariants.Violation(
                description: "\(M.protoName): \(decoded) encodes to a message decoding as \(again)"
            )
        }
        var reencoded = ByteBuffer()
        try again.encode(into: &reencoded, arena: arena)
        guard reencoded == encoded else {
            throw WireInvariants.Violation(description: "\(M.protoName): \(decoded) encodes two ways")
        }
        if let codec = M.self as? any CMessageCodec.Type {
            try codec.checkBothPaths(bytes)
        }
        if let codec = decoded as? any CMessageCodec {
            try codec.checkInPlaceEncoding()
        }
        if let batch = decoded as? BatchCheckPermissionsRequest {
            let counted = try WireScanner.occurrences(ofField: 1, in: bytes)
            guard counted == batch.checks.count else {
                throw WireInvariants.Violation(
                    description: "the scanner counts \(counted) checks, the decoder \(batch.checks.count)"
                )
            }
        }
    }
}

extension CMessageCodec {
    /// protobuf-c's unpack (after validation), the codec of record, and every other decoder of the type
    /// (``WireDirectDecoder`` for a type without repeated fields, the in-place decoder of a hot message)
    /// decode `bytes` to the same value, or all refuse them (for the same reason; the in-place decoder
    /// with the very same error).
    static func checkBothPaths(_ bytes: UnsafeRawBufferPointer) throws {
        let unpacked = Result { try Self.decodeC(bytes, arena: WireArena(), direct: false) }
        if Self.cDescriptor.direct {
            let direct = Result { try Self.decodeC(bytes, arena: WireArena(), direct: true) }
            switch (direct, unpacked) {
            case (.success(let one), .success(let other)) where one == other:
                break
            case (.failure(let one as WireError), .failure(let other as WireError)) where one.reason == other.reason:
                break
            default:
                throw WireInvariants.Violation(
                    description: "\(Self.protoName): decoded directly \(direct), through protobuf-c \(unpacked)"
                )
            }
        }
        let inPlace = Result { () throws(WireError) in try Self.decodeInPlace(bytes, arena: WireArena()) }
        switch (inPlace, unpacked) {
        case (.success(nil), _):
            return  // no in-place decoder for this type
        case (.success(let one?), .success(let other)) where one == other:
            return
        case (.failure(let one), .failure(let other as WireError)) where one == other:
            return
        default:
            throw WireInvariants.Violation(
                description: "\(Self.protoName): decoded in place \(inPlace), through protobuf-c \(unpacked)"
            )
        }
    }

    /// A hot answer's in-place encoding is the bytes protobuf-c packs.
    func checkInPlaceEncoding() throws {
        var direct = ByteBuffer()
        guard self.encodeInPlace(into: &direct) else { return }
        var packed = ByteBuffer()
        try self.packC(into: &packed, arena: WireArena())
        guard direct == packed else {
            throw WireInvariants.Violation(description: "\(Self.protoName): \(self) encodes in place to other bytes")
        }
    }
}
