/// Waits until `condition` holds, polling every 5 ms at most 2,000 times (10 s unloaded), and says
/// whether it did: for state a test cannot await directly (waiters parked, calls in flight).
public func eventually(_ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<2_000 {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}
