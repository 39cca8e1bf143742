public import GRPCCore
import NIOCore
import PorticoReasons
import PorticoServer
public import PorticoWire

/// Encodes a message for gRPC with the project's protobuf-c codec: the bytes of the message field of
/// a gRPC frame are the same protobuf the native protocol's bodies carry.
public struct WireSerializer<Message: WireMessage>: MessageSerializer {
    /// The largest message sent; a larger answer fails its call RESOURCE_EXHAUSTED, as on the native port.
    let maxBytes: Int

    public init(maxBytes: Int = Int(Int32.max)) {
        self.maxBytes = maxBytes
    }

    public func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        var buffer = ByteBuffer()
        do {
            try message.encode(into: &buffer, arena: WireArena(chunkBytes: 512))
        } catch {
            throw CallFailure(.internal, "the answer cannot be sent: \(error)", reason: .encodingFailed).rpcError
        }
        guard buffer.readableBytes <= self.maxBytes else {
            throw CallFailure(
                .resourceExhausted,
                "the answer of \(buffer.readableBytes) bytes exceeds the limit of \(self.maxBytes)",
                reason: .frameTooLarge
            ).rpcError
        }
        return Bytes(buffer.readableBytesView)
    }
}

/// Decodes a message for gRPC with the project's protobuf-c codec, after holding its bytes to the
/// limits they show (`admit`), as the native transport does between authenticating and decoding.
public struct WireDeserializer<Message: WireMessage>: MessageDeserializer {
    /// Runs on the raw bytes before they are decoded; throws to refuse them.
    let admit: @Sendable (UnsafeRawBufferPointer) throws(CallFailure) -> Void

    /// A deserializer that decodes any bytes it is given (clients, and the health service).
    public init() {
        self.admit = { _ throws(CallFailure) in }
    }

    init(admit: @escaping @Sendable (UnsafeRawBufferPointer) throws(CallFailure) -> Void) {
        self.admit = admit
    }

    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        try serializedMessageBytes.withUnsafeBytes { bytes in
            try self.admit(bytes)
            do {
                return try Message(decoding: bytes, arena: WireArena(chunkBytes: 512))
            } catch let error as WireError {
                throw CallFailure(error)
            } catch {
                throw CallFailure(.invalidArgument, "\(Message.protoName) does not decode", reason: .malformedMessage)
            }
        }
    }
}
