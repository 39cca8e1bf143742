import NIOCore
import Synchronization

/// The server-wide budget for frames received in part: the bytes a connection holds while the rest of a
/// frame (up to the maximum frame size) is still to arrive.
///
/// No credential is needed to send most of a 4 MiB frame and wait: 100 connections doing so held
/// 400 MB, and 240 kept it up by finishing each frame just before the frame timeout. A connection
/// reports what it holds after a read that ends inside a frame (and again once it holds nothing), so a
/// read that ends on a frame boundary costs nothing here. When the total passes the budget, the
/// connections whose held frame began first are cut first (a frame sent at the client's full speed is
/// held for moments, one held back by a trickling client for seconds), until the total is back within
/// it; their bytes leave the count at once and memory as they close.
final class InputBudget: Sendable {
    private struct Entry {
        var bytes: Int
        var since: NIODeadline
        let channel: any Channel
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// Connections cut and not yet closed: what they report meanwhile is not counted again.
        var cutPending: Set<ObjectIdentifier> = []
        var total = 0
        var peak = 0
        var cut = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// Bytes counted now, over every connection holding part of a frame.
    var bufferedBytes: Int { self.state.withLock { $0.total } }

    /// The most ever counted, including what a connection added just before others were cut for it.
    var peakBufferedBytes: Int { self.state.withLock { $0.peak } }

    /// Connections cut so far to keep within the budget.
    var connectionsCut: Int { self.state.withLock { $0.cut } }

    /// Records that `channel` holds `bytes` of frames received in part, the oldest begun at `since`;
    /// returns the connections to cut to bring the total back within the budget (possibly `channel`
    /// itself), already uncounted.
    func record(_ id: ObjectIdentifier, bytes: Int, since: NIODeadline, channel: any Channel) -> [any Channel] {
        self.state.withLock { state in
            guard !state.cutPending.contains(id) else { return [] }
            let before = state.entries[id]?.bytes ?? 0
            state.entries[id] = Entry(bytes: bytes, since: since, channel: channel)
            state.total += bytes - before
            state.peak = max(state.peak, state.total)
            guard state.total > self.limit else { return [] }
            var victims: [any Channel] = []
            for (victim, entry) in state.entries.sorted(by: { $0.value.since < $1.value.since }) {
                guard state.total > self.limit else { break }
                state.entries.removeValue(forKey: victim)
                state.cutPending.insert(victim)
                state.total -= entry.bytes
                state.cut += 1
                victims.append(entry.channel)
            }
            return victims
        }
    }

    /// Stops counting a connection: it holds no partial frame any more, or it closed.
    func remove(_ id: ObjectIdentifier, closed: Bool = false) {
        self.state.withLock { state in
            if closed { state.cutPending.remove(id) }
            guard let entry = state.entries.removeValue(forKey: id) else { return }
            state.total -= entry.bytes
        }
    }
}

/// Sent down a connection's pipeline when the input budget cuts it: it sends GOAWAY and closes.
struct InputBudgetCutEvent: Sendable {}
