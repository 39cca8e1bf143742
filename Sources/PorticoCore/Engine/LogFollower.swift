/// Keeps a node in step with a shared log (`SharedChangeLog`): learns of new heads as other nodes
/// commit (a notification, or a poll as the fallback), reads the changes after its own revision in
/// pages and applies them in order. An actor, the one place a node follows from, run for the life of
/// the server (`run()` returns when its task is cancelled).
///
/// A gap or a change that does not replay is an inconsistency (so is a log whose head is behind the
/// node, which an append finds under the head's lock):
/// the node stops serving (every call UNAVAILABLE, `RELOADING`), says why, and reloads from the
/// store's newest checkpoint and the log after it, trying again at each head until it succeeds. A lost
/// connection is not: the node serves its last snapshot, says in its status how long it has not heard
/// from the log, and reconnects by itself.
public actor LogFollower {
    private let portico: Portico
    private let log: any SharedChangeLog
    private let poll: Duration
    private let pageSize: Int
    private let report: @Sendable (String) -> Void
    /// The last failure reported, so that a store down for an hour says so once, not once a second.
    private var reported: String?

    /// - Parameters:
    ///   - poll: how often the head is read when no notification comes.
    ///   - pageSize: how many changes one read asks for.
    ///   - report: where lines about connection losses, inconsistencies and reloads go.
    public init(
        portico: Portico, log: any SharedChangeLog, poll: Duration = .seconds(1), pageSize: Int = 10_000,
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.portico = portico
        self.log = log
        self.poll = poll
        self.pageSize = max(1, pageSize)
        self.report = report
    }

    /// Follows the log until the task is cancelled, reconnecting after each loss with a backoff of
    /// 100 ms doubling to 5 s.
    public func run() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                for try await head in log.heads(poll: poll) {
                    try await follow(to: head)
                    backoff = .milliseconds(100)
                    say(nil)
                }
            } catch is CancellationError {
                return
            } catch {
                portico.logStatus.failure("\(error)")
                say(
                    "the shared log cannot be read (\(error)); serving revision \(portico.snapshot.revision) "
                        + "meanwhile, retrying")
            }
            do { try await Task.sleep(for: backoff) } catch { return }
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// Applies the log up to `head`, or reloads if the node does not serve.
    func follow(to head: Revision) async throws {
        portico.logStatus.contact(head: head, applied: portico.sequencer.durableRevision)
        if let failure = portico.sequencer.failure {
            try await reload(failure)
            return
        }
        while portico.sequencer.durableRevision < head {
            let known = portico.sequencer.durableRevision
            let changes = try await log.changes(after: known, limit: pageSize)
            do {
                guard !changes.isEmpty else {
                    throw LogInconsistency("the log's head is \(head), but it holds nothing after \(known)")
                }
                if try portico.sequencer.absorb(changes) == .busy {
                    // This node's own batch holds the head: it is applied when its commit returns.
                    try await Task.sleep(for: .milliseconds(2))
                }
            } catch let inconsistency as LogInconsistency {
                let why = "the shared log does not follow this node's copy: \(inconsistency)"
                portico.sequencer.stopServing(why)
                try await reload(why)
                return
            }
        }
        // A head below the node's revision is no inconsistency here: it was read (or notified) before
        // this node's own later commits. Only an append, under the head's lock, can tell for sure.
        let applied = portico.sequencer.durableRevision
        portico.logStatus.contact(head: head, applied: applied)
    }

    /// Rebuilds the state from the store: its newest checkpoint and the log after it.
    private func reload(_ why: String) async throws {
        report("not serving: \(why); reloading from the store")
        let recovered: AccessState
        do {
            let recovery = try await log.recover()
            recovered = try AccessState.replay(recovery.changes, onto: recovery.base ?? AccessState())
        } catch {
            report("reload failed (\(error)); still not serving, trying again at the next head")
            throw error
        }
        portico.sequencer.reset(to: recovered)
        report("reloaded at revision \(recovered.revision); serving again")
    }

    /// Reports `line` unless it was the last one reported; nil notes that all is well again.
    private func say(_ line: String?) {
        guard line != reported else { return }
        if let line { report(line) } else if reported != nil { report("the shared log answers again") }
        reported = line
    }
}
