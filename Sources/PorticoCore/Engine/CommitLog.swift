import PorticoReasons
import Synchronization

/// The durable half of the commit pipeline, an actor: takes what the `Sequencer` has queued as one
/// batch, writes it to the store, publishes the state the batch ends with and answers each committer
/// in revision order; on a store failure, rolls the tentative state back and fails every change
/// queued on top of the batch.
///
/// One drain runs at a time: the committer that finds the log idle starts it (`Sequencer.accept`
/// says so), and the drain goes on while changes keep arriving, so that under load every batch holds
/// what queued while the previous one was being written (group commit), and with no load there is
/// no task at all. The actor's isolation keeps the store's appends serial and their answers in order
/// without a lock held across the `await`.
actor CommitLog {
    private let store: any ChangeStore
    private let sequencer: Sequencer
    /// Told of each batch once it is settled (the server's write log and store metrics).
    let observer = Mutex<(any CommitObserver)?>(nil)

    init(store: any ChangeStore, sequencer: Sequencer) {
        self.store = store
        self.sequencer = sequencer
    }

    /// Writes batches until the queue is empty.
    func drain() async {
        while let batch = sequencer.seal() {
            let observer = self.observer.withLock { $0 }
            let began = ContinuousClock.now
            do {
                try await store.append(batch)
                let stored = ContinuousClock.now
                let settled = sequencer.committed()
                let published = ContinuousClock.now
                for pending in settled { pending.reply.resume(returning: pending.result) }
                observer?.committed(batch, storeTime: stored - began, publishTime: published - stored)
            } catch {
                let failure = PorticoError(.unavailable, "the store did not accept the change: \(error)",
                                           reason: .storeFailed)
                for pending in sequencer.failed() { pending.reply.resume(throwing: failure) }
                observer?.commitFailed(batch, error: error, storeTime: ContinuousClock.now - began)
            }
        }
    }
}
