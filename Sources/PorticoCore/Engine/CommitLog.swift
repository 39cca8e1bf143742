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
///
/// On a shared log the batch is sealed inside the store's transaction, under the log's head lock:
/// the changes other nodes committed first are applied, the queue is validated again on top of them
/// (what no longer passes is refused), and only then are revisions final.
actor CommitLog {
    private let store: any ChangeStore
    private let sequencer: Sequencer
    private let status: LogStatusBoard
    /// Told of each batch once it is settled (the server's write log and store metrics).
    let observer = Mutex<(any CommitObserver)?>(nil)

    init(store: any ChangeStore, sequencer: Sequencer, status: LogStatusBoard) {
        self.store = store
        self.sequencer = sequencer
        self.status = status
    }

    /// Writes batches until the queue is empty.
    func drain() async {
        while sequencer.hasQueued() {
            let sequencer = self.sequencer
            let observer = self.observer.withLock { $0 }
            let began = ContinuousClock.now
            // The changes sealed inside the store's transaction, for the observer.
            let sealed = Mutex<[Change]>([])
            do {
                try await store.append(after: sequencer.durableRevision) { missed in
                    let batch = try sequencer.seal(absorbing: missed)
                    sealed.withLock { $0 = batch }
                    return batch
                }
                let stored = ContinuousClock.now
                let batch = sequencer.committed()
                let published = ContinuousClock.now
                status.contact(head: batch.last?.change.revision, applied: sequencer.durableRevision)
                for pending in batch { pending.reply.resume(returning: pending.result) }
                observer?.committed(batch.map(\.change), storeTime: stored - began, publishTime: published - stored)
            } catch let inconsistency as LogInconsistency {
                let why = "the shared log does not follow this node's copy: \(inconsistency)"
                let failure = Sequencer.reloading(why)
                for pending in sequencer.failed(inconsistency: why) { pending.reply.resume(throwing: failure) }
                observer?.commitFailed(
                    sealed.withLock { $0 }, error: inconsistency, storeTime: ContinuousClock.now - began)
            } catch {
                let reason = "\(error)"
                status.failure(reason)
                let failure = Self.failure(error, reason)
                for pending in sequencer.failed() { pending.reply.resume(throwing: failure) }
                observer?.commitFailed(sealed.withLock { $0 }, error: error, storeTime: ContinuousClock.now - began)
            }
        }
    }

    /// What a committer is told when its batch failed: the store's own words when it gives a status
    /// (a commit whose outcome is unknown), else UNAVAILABLE (`STORE_FAILED`).
    private static func failure(_ error: any Error, _ reason: String) -> PorticoError {
        if let error = error as? PorticoError { return error }
        return PorticoError(.unavailable, "the store did not accept the change: \(reason)", reason: .storeFailed)
    }
}
