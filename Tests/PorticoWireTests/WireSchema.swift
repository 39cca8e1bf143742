import CPorticoProto
import CProtobufC
@testable import PorticoWire

/// A message type's fields as protobuf-c describes them, for tests that build bodies field by field.
struct WireSchema {
    enum Kind: Equatable {
        case varint
        case fixed32
        case fixed64
        case bool
        case enumeration(known: Int32)
        case string
        case bytes
        case message(WireSchema)

        static func == (lhs: Kind, rhs: Kind) -> Bool {
            switch (lhs, rhs) {
            case (.varint, .varint), (.fixed32, .fixed32), (.fixed64, .fixed64), (.bool, .bool),
                (.string, .string), (.bytes, .bytes):
                true
            case (.enumeration(let a), .enumeration(let b)): a == b
            case (.message(let a), .message(let b)): a.name == b.name
            default: false
            }
        }
    }

    struct Field {
        let number: Int
        let name: String
        let kind: Kind
        let repeated: Bool
        let inOneof: Bool
    }

    let name: String
    let fields: [Field]
    let descriptor: UnsafePointer<ProtobufCMessageDescriptor>

    init(_ type: any WireMessage.Type) {
        let codec = type as! any CMessageCodec.Type
        self.init(codec.cDescriptor.pointer)
    }

    init(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) {
        self.descriptor = descriptor
        self.name = String(cString: descriptor.pointee.name)
        var fields: [Field] = []
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields[index]
            let kind: Kind
            switch field.type {
            case PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_SFIXED32, PROTOBUF_C_TYPE_FLOAT: kind = .fixed32
            case PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_DOUBLE: kind = .fixed64
            case PROTOBUF_C_TYPE_BOOL: kind = .bool
            case PROTOBUF_C_TYPE_STRING: kind = .string
            case PROTOBUF_C_TYPE_BYTES: kind = .bytes
            case PROTOBUF_C_TYPE_ENUM:
                let values = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
                // The largest value: a valid one that is not the default.
                let known = (0..<Int(values.pointee.n_values)).map { values.pointee.values[$0].value }.max()!
                kind = .enumeration(known: known)
            case PROTOBUF_C_TYPE_MESSAGE:
                kind = .message(WireSchema(field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)))
            default: kind = .varint
            }
            fields.append(
                Field(
                    number: Int(field.id),
                    name: String(cString: field.name),
                    kind: kind,
                    repeated: field.label == PROTOBUF_C_LABEL_REPEATED,
                    inOneof: field.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0
                )
            )
        }
        self.fields = fields
    }

    /// Every request message of `service Portico`.
    static let requests: [any WireMessage.Type] = PorticoService.rpcs.map { $0.requestType }
}

extension PorticoRPC {
    static var requestType: any WireMessage.Type { Request.self }
}

/// Protobuf's wire encoding, by hand, for bodies no encoder would write.
enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    static func key(_ field: Int, _ wireType: UInt8) -> [UInt8] {
        varint(UInt64(field) << 3 | UInt64(wireType))
    }

    static func varintField(_ field: Int, _ value: UInt64) -> [UInt8] {
        key(field, 0) + varint(value)
    }

    static func lengthDelimited(_ field: Int, _ payload: [UInt8]) -> [UInt8] {
        key(field, 2) + varint(UInt64(payload.count)) + payload
    }

    /// The smallest valid occurrence of `field`, with a non-default value where there is a choice.
    static func valid(_ field: WireSchema.Field) -> [UInt8] {
        switch field.kind {
        case .varint, .bool: varintField(field.number, 1)
        case .enumeration(let known): varintField(field.number, UInt64(UInt32(bitPattern: known)))
        case .fixed32: key(field.number, 5) + [1, 0, 0, 0]
        case .fixed64: key(field.number, 1) + [1, 0, 0, 0, 0, 0, 0, 0]
        case .string: lengthDelimited(field.number, Array("ok".utf8))
        case .bytes: lengthDelimited(field.number, [0xFF, 0x00])
        case .message: lengthDelimited(field.number, [])
        }
    }
}
