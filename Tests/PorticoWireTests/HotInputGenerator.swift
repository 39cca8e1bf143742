import Foundation
import NIOCore

@testable import PorticoWire

/// Generates and mutates wire bytes for the hot path's messages, seeded, so that every run feeds the
/// same inputs and a failure names the input that failed.
///
/// A generated message is a run of fields: mostly fields of the message's schema with their own wire
/// type, in any order and repeated, beside unknown fields, wrong wire types, overlong, padded and
/// out-of-range varints, enum values the enum does not define, strings that are not UTF-8 or hold a
/// NUL, and nested messages (a header's detail, a batch's items) built the same way. A mutation then
/// flips bits, overwrites, cuts, inserts, repeats or splices bytes.
struct HotInputGenerator {
    /// The kind of a schema field, as the generator builds its values.
    indirect enum Kind {
        case varint
        case enumeration([Int32])
        case string
        case message(Schema)
    }

    struct Schema {
        let fields: [(number: Int, kind: Kind)]
    }

    static let checkItem = Schema(fields: [
        (1, .varint), (2, .varint), (3, .string), (4, .varint),
        (5, .enumeration(AssetTask.allCases.map(\.rawValue))),
    ])
    /// The external references a check may name instead of ids (their bytes as a string's: the specialised
    /// decoders leave a message holding one to protobuf-c).
    static let checkItemWithReferences = Schema(fields: checkItem.fields + [(6, .string), (7, .string), (8, .string)])
    static let checkRequest = Schema(fields: checkItem.fields + [
        (6, .varint), (7, .varint), (8, .string), (9, .string), (10, .string),
    ])
    static let batchRequest = Schema(fields: [
        (1, .message(checkItem)), (1, .message(checkItem)), (1, .message(checkItemWithReferences)), (2, .varint),
        (3, .varint),
    ])
    static let errorDetail = Schema(fields: [(1, .string), (2, .varint), (3, .varint), (4, .string)])
    static let frameHeader = Schema(fields: [
        (1, .enumeration(FrameKind.allCases.map(\.rawValue))), (2, .varint), (3, .varint), (4, .string),
        (5, .varint), (6, .varint), (7, .enumeration(StatusCode.allCases.map(\.rawValue))), (8, .string),
        (9, .message(errorDetail)), (10, .varint),
    ])

    var random: SplitMix64
    /// Inputs to splice from and mutate: the committed seeds of the message, and what was generated.
    var pool: [[UInt8]]

    init(seed: UInt64, corpus: [[UInt8]]) {
        self.random = SplitMix64(seed: seed)
        self.pool = corpus
    }

    /// The next input: a seed or a new message, then zero to three mutations.
    mutating func next(_ schema: Schema) -> [UInt8] {
        var bytes: [UInt8]
        if !self.pool.isEmpty && self.roll(4) == 0 {
            bytes = self.pool[self.roll(self.pool.count)]
        } else {
            bytes = self.message(schema, depth: 0)
            if self.pool.count < 4096 { self.pool.append(bytes) }
        }
        let mutations = self.roll(2) == 0 ? 0 : 1 + self.roll(3)
        for _ in 0..<mutations { self.mutate(&bytes) }
        return bytes
    }

    mutating func roll(_ bound: Int) -> Int { Int(self.random.next() % UInt64(max(bound, 1))) }

    mutating func message(_ schema: Schema, depth: Int) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<self.roll(depth == 0 ? 12 : 6) {
            if self.roll(8) == 0 {
                self.unknownField(into: &out)
            } else {
                let (number, kind) = schema.fields[self.roll(schema.fields.count)]
                self.field(number, kind, depth: depth, into: &out)
            }
        }
        return out
    }

    private mutating func field(_ number: Int, _ kind: Kind, depth: Int, into out: inout [UInt8]) {
        let rightType: UInt8
        switch kind {
        case .varint, .enumeration: rightType = 0
        case .string, .message: rightType = 2
        }
        let wireType = self.roll(12) == 0 ? UInt8(self.roll(8)) : rightType
        self.key(number, wireType, into: &out)
        switch wireType {
        case 0:
            if case .enumeration(let values) = kind, self.roll(6) != 0 {
                self.varint(UInt64(bitPattern: Int64(values[self.roll(values.count)])), into: &out)
            } else {
                self.varint(self.someValue(), into: &out)
            }
        case 1: out += (0..<8).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }
        case 5: out += (0..<4).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }
        case 2:
            let payload: [UInt8]
            if case .message(let nested) = kind, depth < 2, self.roll(8) != 0 {
                payload = self.message(nested, depth: depth + 1)
            } else {
                payload = self.string()
            }
            self.varint(UInt64(payload.count), into: &out)
            out += payload
        default:
            // Groups (3, 4) and the wire types that do not exist (6, 7): a few bytes after them.
            out += (0..<self.roll(3)).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }
        }
    }

    private mutating func unknownField(into out: inout [UInt8]) {
        let numbers = [11, 12, 15, 16, 100, 2047, 2048, 536_870_911]
        let wireTypes: [UInt8] = [0, 1, 2, 5]
        let wireType = wireTypes[self.roll(wireTypes.count)]
        self.key(numbers[self.roll(numbers.count)], wireType, into: &out)
        switch wireType {
        case 0: self.varint(self.someValue(), into: &out)
        case 1: out += [UInt8](repeating: 0xAB, count: 8)
        case 5: out += [UInt8](repeating: 0xCD, count: 4)
        default:
            let payload = self.string()
            self.varint(UInt64(payload.count), into: &out)
            out += payload
        }
    }

    private mutating func key(_ number: Int, _ wireType: UInt8, into out: inout [UInt8]) {
        self.varint(UInt64(number) << 3 | UInt64(wireType), into: &out)
    }

    /// Small, large, 32-bit-edged and sign-extended values.
    private mutating func someValue() -> UInt64 {
        switch self.roll(8) {
        case 0: return 0
        case 1: return UInt64(self.roll(128))
        case 2: return UInt64(self.roll(1 << 14))
        case 3: return UInt64(UInt32.max) + UInt64(self.roll(3)) - 1
        case 4: return UInt64.max - UInt64(self.roll(3))
        case 5: return UInt64(bitPattern: Int64(-self.roll(1000)))
        default: return self.random.next() >> UInt64(self.roll(64))
        }
    }

    /// A varint, sometimes padded with continuation bytes to 10 or (refused) 11 bytes.
    private mutating func varint(_ value: UInt64, into out: inout [UInt8]) {
        var value = value
        var written = 0
        let padTo = self.roll(10) == 0 ? 10 + self.roll(2) : 0
        while value >= 0x80 || written + 1 < padTo {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
            written += 1
        }
        out.append(UInt8(truncatingIfNeeded: value))
    }

    /// A token-like ASCII string, or one with multi-byte UTF-8, bad UTF-8, a NUL, or nothing.
    private mutating func string() -> [UInt8] {
        var text = Array("ptk_\(self.roll(100_000))_qQkt8jBNrcNn9YazmYSug4_vIrzKxce7wRV5MBpNW7M".utf8)
        text = Array(text.prefix(self.roll(text.count + 1)))
        switch self.roll(10) {
        case 0: text += Array("é€𝄞".utf8)
        case 1: text.insert(0, at: self.roll(text.count + 1))
        case 2:
            text +=
                [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]][self.roll(5)]
        case 3: text = []
        default: break
        }
        return text
    }

    mutating func mutate(_ bytes: inout [UInt8]) {
        switch self.roll(7) {
        case 0 where !bytes.isEmpty: bytes[self.roll(bytes.count)] ^= UInt8(1) << UInt8(self.roll(8))
        case 1 where !bytes.isEmpty: bytes[self.roll(bytes.count)] = UInt8(truncatingIfNeeded: self.random.next())
        case 2 where !bytes.isEmpty: bytes.removeLast(1 + self.roll(min(bytes.count, 8)))
        case 3:
            let at = self.roll(bytes.count + 1)
            bytes.insert(
                contentsOf: (0..<1 + self.roll(4)).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }, at: at)
        case 4 where !bytes.isEmpty:
            let start = self.roll(bytes.count)
            let end = start + self.roll(bytes.count - start + 1)
            bytes.insert(contentsOf: bytes[start..<end], at: self.roll(bytes.count + 1))
        case 5 where !self.pool.isEmpty:
            let other = self.pool[self.roll(self.pool.count)]
            bytes = Array(bytes.prefix(self.roll(bytes.count + 1))) + other.suffix(self.roll(other.count + 1))
        default:
            if !bytes.isEmpty { bytes.remove(at: self.roll(bytes.count)) }
        }
    }
}
