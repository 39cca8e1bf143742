import NIOCore
import Synchronization

/// The server-wide budget for what connections hold on behalf of clients that do not read: answers
/// written but not yet sent, and requests read but held back until the client reads its answers.
///
/// Each connection's figure is bounded already (it stops taking requests once it cannot write, and a
/// client that reads nothing for the slow-client timeout is cut off), but a hundred such clients held
/// hundreds of megabytes together. A connection reports its figure only while it cannot write (the
/// rare case: a client reading at all keeps its connection writable), so a call costs nothing here.
/// When the total passes the budget, the connections that stopped reading first are closed first,
/// until the total is back within it; their bytes leave the count at once and memory as they close.
final class OutputBudget: Sendable {
    private struct Entry {
        var bytes: Int
        let stalledSince: NIODeadline
        let channel: any Channel
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var total = 0
        var peak = 0
        var peakSinceCheck = 0
        var cut = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// Bytes counted now, over every connection that cannot write.
    var bufferedBytes: Int { self.state.withLock { $0.total } }

    /// The most ever counted, including what a connection added just before others were cut for it.
    var peakBufferedBytes: Int { self.state.withLock { $0.peak } }

    /// The most counted since the last call (which starts a new period).
    func takePeakSinceLastCheck() -> Int {
        self.state.withLock { state in
            defer { state.peakSinceCheck = state.total }
            return state.peakSinceCheck
        }
    }

    /// Connections closed to keep within the budget so far.
    var connectionsCut: Int { self.state.withLock { $0.cut } }

    /// Records what `channel` holds now, stalled since `stalledSince`; returns the connections to close
    /// to bring the total back within the budget (possibly `channel` itself), already uncounted.
    func record(_ id: ObjectIdentifier, bytes: Int, stalledSince: NIODeadline, channel: any Channel) -> [any Channel] {
        self.state.withLock { state in
            let before = state.entries[id]?.bytes ?? 0
            state.entries[id] = Entry(bytes: bytes, stalledSince: state.entries[id]?.stalledSince ?? stalledSince,
                                      channel: channel)
            state.total += bytes - before
            state.peak = max(state.peak, state.total)
            state.peakSinceCheck = max(state.peakSinceCheck, state.total)
            guard state.total > self.limit else { return [] }
            var victims: [any Channel] = []
            for (victim, entry) in state.entries.sorted(by: { $0.value.stalledSince < $1.value.stalledSince }) {
                guard state.total > self.limit else { break }
                state.entries.removeValue(forKey: victim)
                state.total -= entry.bytes
                state.cut += 1
                victims.append(entry.channel)
            }
            return victims
        }
    }

    /// Stops counting a connection: it can write again, or it closed.
    func remove(_ id: ObjectIdentifier) {
        self.state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return }
            state.total -= entry.bytes
        }
    }

    /// Whether a connection is counted (a cut one no longer is).
    func isCounted(_ id: ObjectIdentifier) -> Bool {
        self.state.withLock { $0.entries[id] != nil }
    }
}
