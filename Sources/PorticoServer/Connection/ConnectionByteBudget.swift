import NIOCore
import Synchronization

/// A server-wide budget for bytes that connections hold on behalf of clients, and which a client can
/// make large without a credential; two of them, one per direction:
///
/// - **input**: frames received in part, held while the rest (up to the maximum frame size) is still
///   to arrive. 100 connections sending most of a 4 MiB frame and waiting held 400 MB, and 240 kept it
///   up by finishing each frame just before the frame timeout. A connection reports what it holds after
///   a read that ends inside a frame (and again once it holds nothing), so a read that ends on a frame
///   boundary costs nothing here. Its clock is that of the oldest frame it holds, so the connections
///   whose frame began first are cut first (a frame sent at full speed is held for moments, one held by
///   a trickling client for seconds).
/// - **output**: answers written but not yet sent, and requests read but held back until the client
///   reads its answers. Each connection's figure is bounded already (it stops taking requests once it
///   cannot write, and a client that reads nothing for the slow-client timeout is cut off), but a hundred
///   such clients held hundreds of megabytes together. A connection reports only while it cannot write
///   (a client reading at all keeps its connection writable), so a call costs nothing here. Its clock
///   is when it first stalled, so the clients that stopped reading first are cut first.
///
/// When the total passes the budget, connections are cut in their clocks' order until the total is
/// back within it; their bytes leave the count at once, and memory as they close.
final class ConnectionByteBudget: Sendable {
    /// Which of a connection's reports sets its clock.
    enum Clock: Sendable {
        /// The latest report's (input: the oldest frame held now).
        case latest
        /// The first report's since the connection was last uncounted (output: when it stalled).
        case first
    }

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
        var peakSinceCheck = 0
        var cut = 0
    }

    let limit: Int
    private let clock: Clock
    private let state = Mutex(State())

    init(limit: Int, clock: Clock) {
        self.limit = limit
        self.clock = clock
    }

    /// Bytes counted now, over every connection reporting.
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

    /// Connections cut so far to keep within the budget.
    var connectionsCut: Int { self.state.withLock { $0.cut } }

    /// Records that `channel` holds `bytes` now, its clock at `since` (see ``Clock``); returns the
    /// connections to cut to bring the total back within the budget (possibly `channel` itself),
    /// already uncounted.
    func record(_ id: ObjectIdentifier, bytes: Int, since: NIODeadline, channel: any Channel) -> [any Channel] {
        self.state.withLock { state in
            guard !state.cutPending.contains(id) else { return [] }
            let before = state.entries[id]
            let clock = self.clock == .first ? before?.since ?? since : since
            state.entries[id] = Entry(bytes: bytes, since: clock, channel: channel)
            state.total += bytes - (before?.bytes ?? 0)
            state.peak = max(state.peak, state.total)
            state.peakSinceCheck = max(state.peakSinceCheck, state.total)
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

    /// Stops counting a connection: it holds nothing any more (no partial frame; it can write again),
    /// or it closed.
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
