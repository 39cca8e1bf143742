import NIOCore

extension ContinuousClock.Instant {
    /// The instant of `deadline` on the continuous clock, which the core uses (it has no NIO). The two
    /// clocks have different origins (and on Linux count suspension differently), so the time left is
    /// carried over rather than the reading.
    init(_ deadline: NIODeadline) {
        let left = Int64(deadline.uptimeNanoseconds) - Int64(NIODeadline.now().uptimeNanoseconds)
        self = ContinuousClock.now.advanced(by: .nanoseconds(left))
    }
}
