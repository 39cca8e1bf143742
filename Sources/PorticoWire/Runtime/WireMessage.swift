public import NIOCore

/// A message of the Portico protocol as a Swift value, encoded and decoded by protobuf-c.
///
/// Every message type is generated from `proto/` (Sources/PorticoWire/Generated). Encoding and
/// decoding borrow scratch memory from a ``WireArena``; a caller that encodes or decodes often (a
/// connection) keeps one arena and passes it in, so that steady-state calls do not touch malloc.
public protocol WireMessage: Sendable, Hashable, Encodable {
    /// The message's full name in the .proto files, e.g. `portico.v1.CheckPermissionRequest`.
    static var protoName: String { get }

    /// Decodes a message from its protobuf encoding.
    /// - Throws: ``WireError`` with `.invalidArgument` when the bytes are not a valid encoding: they
    ///   fail protobuf-c's unpack, hold an enum value this version does not know, or a string that is
    ///   not UTF-8 or contains a NUL character.
    init(decoding bytes: UnsafeRawBufferPointer, arena: WireArena) throws

    /// Appends the message's protobuf encoding to `buffer`.
    /// - Throws: ``WireError`` with `.invalidArgument` when a string contains a NUL character, which
    ///   protobuf-c's C strings cannot carry.
    func encode(into buffer: inout ByteBuffer, arena: WireArena) throws
}

extension WireMessage {
    /// Decodes a message from the readable bytes of `buffer`, without moving its reader index.
    ///
    /// Inlinable, so that a caller decoding a known type (the server, every call) gets it specialized
    /// rather than through the protocol's witness table and a generic closure (~350 instructions a call).
    @inlinable
    public init(decoding buffer: ByteBuffer, arena: WireArena) throws {
        self = try buffer.withUnsafeReadableBytes { try Self(decoding: $0, arena: arena) }
    }

    /// Decodes a message from bytes, with scratch memory of its own.
    public init(decoding bytes: some Sequence<UInt8>) throws {
        let array = Array(bytes)
        self = try array.withUnsafeBytes { try Self(decoding: $0, arena: WireArena()) }
    }

    /// The message's protobuf encoding, with scratch memory of its own.
    public func encoded() throws -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        try self.encode(into: &buffer, arena: WireArena())
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

/// An enum of the Portico protocol. Enums are closed: a value this version does not know fails to decode.
public protocol WireEnum: RawRepresentable<Int32>, CaseIterable, Hashable, Sendable, Encodable {
    /// The enum's full name in the .proto files, e.g. `portico.v1.AssetTask`.
    static var protoName: String { get }

    /// The value's name in the .proto files, e.g. `ASSET_TASK_MANAGE`.
    var protoValueName: String { get }
}

extension WireEnum {
    /// The value named `name` in the .proto files (e.g. `ASSET_TASK_MANAGE`), or nil.
    public init?(protoValueName name: String) {
        guard let value = Self.allCases.first(where: { $0.protoValueName == name }) else { return nil }
        self = value
    }
}

/// One RPC of `service Portico`: the method that names it in a frame header and its message types.
public protocol PorticoRPC: Sendable {
    associatedtype Request: WireMessage
    associatedtype Response: WireMessage

    /// The value of the frame header's `method` that calls this RPC.
    static var method: Method { get }

    /// Whether the RPC is a change (every RPC the proto does not mark `NO_SIDE_EFFECTS`): what an
    /// idempotency key applies to, and what a client may not resend without one.
    static var changesState: Bool { get }

    /// Whether the RPC is a server stream (`returns (stream …)`): its `Response` is then the type of
    /// each STREAM_ITEM, and a final RESPONSE frame carries only the status that ends the stream.
    static var serverStreaming: Bool { get }

    /// The RPC's name in the .proto file, e.g. `CheckPermission`.
    static var name: String { get }

    /// The full name of the RPC's service, e.g. `portico.v1.Portico`.
    static var service: String { get }
}

extension PorticoRPC {
    /// The RPC's path in gRPC, e.g. `/portico.v1.Portico/CheckPermission`.
    public static var path: String { "/\(Self.service)/\(Self.name)" }
}

/// The JSON key of a field: its proto3 JSON name (`assetId`).
struct WireCodingKey: CodingKey, ExpressibleByStringLiteral {
    let stringValue: String
    var intValue: Int? { nil }

    init(stringLiteral value: String) { self.stringValue = value }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension WireEnum {
    /// Enums encode to JSON by their value name, as proto3's JSON mapping does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.protoValueName)
    }
}
