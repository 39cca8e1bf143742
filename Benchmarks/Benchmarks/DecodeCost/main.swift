import PorticoWire
#if canImport(Glibc)
import Glibc
#endif

// Decodes one body that an attacker would build to be slow, once, in `measureOne`: run under
// `valgrind --tool=callgrind --toggle-collect='*measureOne*'` (fuzz/callgrind-decode.sh), it gives the
// instructions one decode costs, which divided by the body's size must stay flat as the size grows.
//
//   decode-cost SHAPE BYTES
//
// SHAPE: tokens (BatchCheckPermissions of 1-byte token items, the frame that froze an event loop),
// items (empty CheckItems), unknown (2-byte unknown fields in a PingRequest), tasks (one packed run of
// AssignTasksRequest.tasks), strings (AddPersonRequest.name sent again and again, 1 byte each).
// `check` and `check-token` decode the WireCodec benchmark's CheckPermissionRequest BYTES times with
// one arena, as a connection does: the hot path, in instructions per decode.

func varint(_ value: Int) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    while value >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: value) | 0x80)
        value >>= 7
    }
    return out + [UInt8(value)]
}

/// `unit` repeated as often as fits in `bytes`.
func fill(_ unit: [UInt8], _ bytes: Int) -> [UInt8] {
    Array([[UInt8]](repeating: unit, count: bytes / unit.count).joined())
}

// Never inlined: callgrind collects inside this function alone, by its name.
@inline(never)
func measureRepeated(_ message: CheckPermissionRequest, _ times: Int) -> String {
    do {
        let arena = WireArena()
        let body = try message.encoded()
        var sum: UInt64 = 0
        for _ in 0..<times {
            sum &+= try body.withUnsafeBytes { try CheckPermissionRequest(decoding: $0, arena: arena) }.assetID
        }
        return "decoded \(times) times (\(sum))"
    } catch {
        return "refused: \(error)"
    }
}

@inline(never)
func measureOne<M: WireMessage>(_ type: M.Type, _ body: [UInt8]) -> String {
    do {
        _ = try body.withUnsafeBytes { try M(decoding: $0, arena: WireArena()) }
        return "decoded"
    } catch {
        return "refused: \(error)"
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let bytes = Int(arguments[2]) else {
    print("usage: decode-cost tokens|items|unknown|tasks|strings BYTES, or check|check-token TIMES")
    exit(2)
}
let outcome: String
switch arguments[1] {
case "tokens":
    outcome = measureOne(BatchCheckPermissionsRequest.self, fill([0x0A, 0x03, 0x1A, 0x01, 0x61], bytes))
case "items": outcome = measureOne(BatchCheckPermissionsRequest.self, fill([0x0A, 0x00], bytes))
case "unknown": outcome = measureOne(PingRequest.self, fill([0x78, 0x01], bytes))
case "tasks":
    outcome = measureOne(AssignTasksRequest.self, [0x1A] + varint(bytes - 6) + fill([0x01], bytes - 6))
case "strings": outcome = measureOne(AddPersonRequest.self, fill([0x12, 0x01, 0x61], bytes))
case "check":
    let subject = CheckPermissionRequest.Subject.systemUserID(7_654_321)
    let request = CheckPermissionRequest(assetID: 1_234_567, task: .analyze, minRevision: 42, subject: subject)
    outcome = measureRepeated(request, bytes)
case "check-token":
    let token = "ptk_4_qQkt8jBNrcNn9YazmYSug4_vIrzKxce7wRV5MBpNW7M"
    outcome = measureRepeated(CheckPermissionRequest(assetID: 1_234_567, task: .analyze, subject: .token(token)), bytes)
default:
    print("unknown shape \(arguments[1])")
    exit(2)
}
print("\(arguments[1]) \(bytes) bytes: \(outcome)")
