import ArgumentParser
import PorticoStore

/// `portico serve`'s options for the durable store: when to write checkpoints and how many to keep.
struct StorageOptions: ParsableArguments {
    @Option(name: .customLong("checkpoint-every"),
            help: "Write a checkpoint of the whole state after this many changes (0: not by count).")
    var checkpointEvery: Int = 100_000

    @Option(name: .customLong("checkpoint-interval"),
            help: "Write a checkpoint after this many seconds if anything changed (0: not by time).")
    var checkpointInterval: Int = 600

    @Option(name: .customLong("keep-checkpoints"), help: "How many checkpoints to keep, newest first (at least 1).")
    var keepCheckpoints: Int = 2

    func validate() throws {
        guard self.checkpointEvery >= 0, self.checkpointInterval >= 0 else {
            throw ValidationError("--checkpoint-every and --checkpoint-interval cannot be negative")
        }
        guard self.keepCheckpoints >= 1 else { throw ValidationError("--keep-checkpoints must be at least 1") }
    }

    /// The checkpointer's policy these options describe.
    var policy: Checkpointer.Policy {
        Checkpointer.Policy(changes: self.checkpointEvery,
                            interval: self.checkpointInterval > 0 ? .seconds(self.checkpointInterval) : nil)
    }
}
