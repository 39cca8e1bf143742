import NIOCore
@testable import PorticoWire
import Testing

/// Decoding costs work linear in the body's size for every request type, measured in the arena's work
/// units (allocations, bytes allocated by the 8-byte word, fields and string bytes validated), never
/// in time: the bodies are the costliest an attacker can build within the largest frame.
@Suite("Decode cost")
struct DecodeCostTests {
    /// The largest body a 4 MiB frame carries beside a small header.
    static let bodyBytes = Frame.defaultMaxBytes - 64
    /// Work units allowed per body byte. The costliest body measured is about 6 (2-byte empty items
    /// of a repeated message: each unpacks into a struct of its own); quadratic steps need thousands.
    static let unitsPerByte = 10

    /// `unit` repeated as often as fits in `bytesBudget` (by doubling: debug builds are slow per append).
    static func fill(_ unit: [UInt8], _ bytesBudget: Int = Self.bodyBytes) -> [UInt8] {
        precondition(!unit.isEmpty)
        let copies = bytesBudget / unit.count
        var body = unit
        body.reserveCapacity(copies * unit.count)
        while body.count * 2 <= copies * unit.count { body += body }
        body += body.prefix(copies * unit.count - body.count)
        return body
    }

    /// The costliest bodies for `schema`, by name: its fields repeated as densely as the wire allows, in
    /// the shapes that make protobuf-c and the lift do most per byte. Fields of one kind take the same
    /// path whatever their number, so each kind is sent once per type; unknown fields take the same
    /// path in every type, so they are sent to the types without fields of their own.
    static func worstBodies(_ schema: WireSchema) -> [(String, [UInt8])] {
        var bodies: [(String, [UInt8])] = []
        if schema.fields.isEmpty {
            bodies.append(("2-byte unknown fields", Self.fill(Wire.varintField(15, 1))))
        }
        var kindsSent: Set<String> = []
        for field in schema.fields {
            let name = field.name
            switch field.kind {
            case .message(let nested):
                bodies.append(("\(name): empty messages", Self.fill(Wire.lengthDelimited(field.number, []))))
                let full = nested.fields.filter { !$0.inOneof }.flatMap(Wire.valid)
                if !full.isEmpty {
                    bodies.append(("\(name): every field set", Self.fill(Wire.lengthDelimited(field.number, full))))
                }
                for string in nested.fields where string.kind == .string {
                    let item = Wire.lengthDelimited(string.number, [0x61])
                    let body = Self.fill(Wire.lengthDelimited(field.number, item))
                    bodies.append(("\(name): 1-byte \(string.name)", body))
                }
                for list in nested.fields where list.repeated {
                    // One element each: protobuf-c concatenates these on a merge.
                    let item = Wire.lengthDelimited(field.number, Wire.valid(list))
                    bodies.append(("\(name): one \(list.name) each", Self.fill(item)))
                }
            case .string:
                guard kindsSent.insert("string").inserted else { continue }
                bodies.append(("\(name): 1-byte strings", Self.fill(Wire.lengthDelimited(field.number, [0x61]))))
                let accents = Self.fill([0xC3, 0xA9], Self.bodyBytes - 8)
                bodies.append(("\(name): one string of é", Wire.lengthDelimited(field.number, accents)))
            case .enumeration(let known) where field.repeated:
                let run = Self.fill(Wire.varint(UInt64(known)), Self.bodyBytes - 8)
                bodies.append(("\(name): one packed run", Wire.lengthDelimited(field.number, run)))
                bodies.append(("\(name): unpacked", Self.fill(Wire.valid(field))))
            default:
                guard kindsSent.insert("\(field.kind)").inserted else { continue }
                bodies.append(("\(name): repeated on the wire", Self.fill(Wire.valid(field))))
            }
        }
        return bodies
    }

    @Test("the costliest 4 MiB bodies of every request type cost work linear in their size",
          arguments: WireSchema.requests.map(MessageType.init))
    func linearDecode(_ type: MessageType) {
        let arena = WireArena()
        for (name, body) in Self.worstBodies(WireSchema(type.type)) {
            let before = arena.work
            var outcome = "decoded"
            do {
                _ = try body.withUnsafeBytes { try type.type.init(decoding: $0, arena: arena) }
            } catch let error as WireError {
                outcome = error.reason
            } catch {
                Issue.record("\(name): not a WireError: \(error)")
            }
            let units = arena.work.units - before.units
            #expect(
                units <= Self.unitsPerByte * body.count,
                "\(type.testDescription), \(name) (\(outcome)): \(units) units for \(body.count) bytes"
            )
        }
    }

    @Test("a 600 KB batch of 1-byte tokens: linear work, and counted before any unpack")
    func tokenBatch() throws {
        let item = Wire.lengthDelimited(1, Wire.lengthDelimited(3, [0x61]))
        for size in [600_000, Self.bodyBytes] {
            let body = Self.fill(item, size)
            let arena = WireArena()
            let count = try body.withUnsafeBytes { try WireScanner.occurrences(ofField: 1, in: $0) }
            #expect(count == size / item.count)
            let request = try body.withUnsafeBytes { try BatchCheckPermissionsRequest(decoding: $0, arena: arena) }
            #expect(request.checks.count == count)
            #expect(request.checks.allSatisfy { $0.subject == .token("a") })
            #expect(arena.work.units <= Self.unitsPerByte * body.count, "\(arena.work)")
        }
    }

    @Test("the fuzzer's bound on work per byte stays small whatever the type (the largest struct sets it)")
    func fuzzerBound() {
        #expect(WireInvariants.unitsPerByte >= Self.unitsPerByte)
        #expect(WireInvariants.unitsPerByte <= 16)
    }

    @Test("the arena's chunks grow geometrically: tens of megabytes take few mallocs")
    func chunkGrowth() {
        let arena = WireArena()
        for _ in 0..<1_000_000 { _ = arena.allocate(byteCount: 40) }
        // 40 MB in chunks doubling from 4 KiB to 1 MiB: 8 to reach 1 MiB, then one per MiB.
        #expect(arena.work.chunks <= 8 + 40_000_000 / (1 << 20) + 1)
        arena.reset()
        let pointer = arena.allocate(byteCount: 16)
        pointer.storeBytes(of: 7, as: UInt64.self)
        #expect(pointer.load(as: UInt64.self) == 7)
    }
}
