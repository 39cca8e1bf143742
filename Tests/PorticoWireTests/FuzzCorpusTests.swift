import Foundation
import PorticoWire
import Testing

/// The fuzzer's committed inputs (fuzz/seeds and fuzz/regressions, each fault it found kept as one),
/// replayed through the same invariants it asserts: the bounded, every-run form of `make fuzz`.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static func inputs(_ folder: String) throws -> [URL] {
        let directory = Repository.root.appendingPathComponent("fuzz/\(folder)")
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every seed and regression input keeps every wire invariant", arguments: ["seeds", "regressions"])
    func replay(_ folder: String) throws {
        let inputs = try Self.inputs(folder)
        if folder == "seeds" {
            // The seeds are the golden files and the protocol page's examples: dozens, never none.
            #expect(inputs.count > 100)
        }
        let arena = WireArena()
        for url in inputs {
            let bytes = try [UInt8](Data(contentsOf: url))
            let violation = bytes.withUnsafeBytes { WireInvariants.check($0, arena: arena) }
            #expect(violation == nil, "\(folder)/\(url.lastPathComponent): \(String(describing: violation))")
        }
    }

    @Test("each seed reaches the decoder its first byte names, and the golden ones decode")
    func seedsDecode() throws {
        for url in try Self.inputs("seeds") where url.lastPathComponent.hasPrefix("golden-") {
            let bytes = try [UInt8](Data(contentsOf: url))
            let target = Int(bytes[0]) % WireInvariants.targetCount
            #expect(target > 0, "\(url.lastPathComponent)")
            guard target > 0 else { continue }
            let type = PorticoMessages.all[target - 1]
            let name = url.lastPathComponent.dropFirst("golden-".count).split(separator: "@")[0]
            #expect(type.protoName == "portico.v1.\(name)", "rerun fuzz/make-seeds.py")
            _ = try bytes.dropFirst().withUnsafeBytes { try type.init(decoding: $0, arena: WireArena()) }
        }
    }
}
