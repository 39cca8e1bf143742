import Foundation
import PorticoCore
import Testing

@Suite("System clock")
struct SystemClockTests {
    @Test("now is the wall-clock time in milliseconds since 1970, and does not go back")
    func now() {
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let first = SystemClock().now()
        let second = SystemClock().now()
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(first.milliseconds >= before - 1 && first.milliseconds <= after + 1)
        #expect(second >= first)
    }
}
