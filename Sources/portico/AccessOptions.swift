import ArgumentParser
import PorticoCore

/// `portico serve`'s options for idempotency keys and expiring assignments.
struct AccessOptions: ParsableArguments {
    @Option(name: .customLong("idempotency-window"), help: """
        Seconds a change's idempotency key is remembered: a retry with the key within it is answered as \
        the first change, not applied again (default: 24 hours).
        """)
    var idempotencyWindow: Int = 86_400

    @Option(name: .customLong("idempotency-keys"), help: "The most idempotency keys remembered; the oldest go first.")
    var idempotencyKeys: Int = IdempotencyPolicy.standard.capacity

    @Option(name: .customLong("expiry-sweep-interval"), help: """
        Seconds between sweeps that remove expired assignments as a recorded change (checks stop \
        honouring them at their time whatever this is).
        """)
    var expirySweepInterval: Int = 60

    func validate() throws {
        guard self.idempotencyWindow >= 1, self.idempotencyKeys >= 1, self.expirySweepInterval >= 1 else {
            throw ValidationError(
                "--idempotency-window, --idempotency-keys and --expiry-sweep-interval must be at least 1")
        }
    }

    /// The core's idempotency policy these options describe.
    var idempotency: IdempotencyPolicy {
        IdempotencyPolicy(
            windowMilliseconds: Int64(clamping: self.idempotencyWindow) * 1000, capacity: self.idempotencyKeys)
    }
}
