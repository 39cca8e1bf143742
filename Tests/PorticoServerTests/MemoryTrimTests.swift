@testable import PorticoServer
import Testing

@Suite("Memory given back after an episode")
struct MemoryTrimTests {
    @Test("a trim follows 200 connections released or 4 MiB of output held, and resets its count")
    func policy() {
        var trim = MemoryTrim()
        let decisions = [(199, 0), (200, 0), (399, 4 * 1024 * 1024 - 1), (399, 4 * 1024 * 1024), (598, 0)].map {
            trim.shouldTrim(released: $0.0, outputPeakSinceLastCheck: $0.1)
        }
        #expect(decisions == [false, true, false, true, false])
        #expect(MemoryTrim.isAvailable)
        MemoryTrim.trim()
    }
}
