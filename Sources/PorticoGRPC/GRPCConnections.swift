import NIOCore
import Synchronization

/// The connections the gRPC endpoint holds open, held to a limit, so that a shutdown can close those
/// its grace period has not seen drain.
final class GRPCConnections: Sendable {
    let limit: Int
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Connections open now.
    var count: Int { self.open.withLock { $0.count } }

    /// The connections open now.
    var channels: [any Channel] { self.open.withLock { Array($0.values) } }

    /// Takes a place for a new connection until it closes, or returns false when all are taken.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = self.open.withLock { open in
            guard open.count < self.limit else { return false }
            open[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in self.open.withLock { _ = $0.removeValue(forKey: id) } }
        }
        return admitted
    }

    /// Closes every connection still open (the grace period is over).
    func closeAll() {
        for channel in self.channels {
            channel.close(promise: nil)
        }
    }
}
