import NIOCore
import Synchronization

/// One connection's place on the server: taken when it is accepted, given back once the connection
/// has closed *and* the work of its calls has finished, so that closing a connection does not free
/// its place while its writes still run.
final class ConnectionSlot: Sendable {
    let channel: any Channel
    let peer: PeerAddress
    /// The calls in flight of every connection from this peer (see ``CallBudget``).
    let peerCalls: PeerCalls

    fileprivate init(channel: any Channel, peer: PeerAddress, peerCalls: PeerCalls) {
        self.channel = channel
        self.peer = peer
        self.peerCalls = peerCalls
    }

    var id: ObjectIdentifier { ObjectIdentifier(self) }
}

/// The calls in flight of one peer address, over all its connections.
final class PeerCalls: Sendable {
    // An atomic: taken and given back by connections on different event loops, once per deferred call.
    let count = Atomic<Int>(0)
}

/// The connections of a server: counted against the total and per-address limits, told when the
/// server shuts down, and awaited until the last has gone.
final class ConnectionRegistry: Sendable {
    enum Admission {
        case admitted(ConnectionSlot)
        /// The server has `maxConnections` places taken.
        case refusedTotal
        /// The peer address has its share taken.
        case refusedAddress(PeerAddress)
    }

    private struct Peer {
        var slots = 0
        let calls = PeerCalls()
    }

    private struct State {
        var limit: Int
        var slots: [ObjectIdentifier: ConnectionSlot] = [:]
        var peers: [PeerAddress: Peer] = [:]
        var whenEmpty: [EventLoopPromise<Void>] = []
        /// Places given back since the server started.
        var released = 0
    }

    private let state: Mutex<State>
    private let perAddressLimit: Int

    init(limit: Int, perAddressLimit: Int) {
        self.state = Mutex(State(limit: limit))
        self.perAddressLimit = perAddressLimit
    }

    /// The connection limit in force (lowered when the process may not open enough files).
    var limit: Int {
        get { self.state.withLock { $0.limit } }
        set { self.state.withLock { $0.limit = newValue } }
    }

    /// Places taken: open connections, and closed ones whose calls are still running.
    var count: Int { self.state.withLock { $0.slots.count } }

    /// Places given back since the server started.
    var released: Int { self.state.withLock { $0.released } }

    /// Takes a place for `channel`, unless the server or its peer address has every place taken.
    func admit(_ channel: any Channel, peer address: SocketAddress?) -> Admission {
        let peer = PeerAddress(address)
        return self.state.withLock { state in
            guard state.slots.count < state.limit else { return .refusedTotal }
            let taken = state.peers[peer]?.slots ?? 0
            guard taken < self.perAddressLimit else { return .refusedAddress(peer) }
            if state.peers[peer] == nil { state.peers[peer] = Peer() }
            state.peers[peer]!.slots += 1
            let slot = ConnectionSlot(channel: channel, peer: peer, peerCalls: state.peers[peer]!.calls)
            state.slots[slot.id] = slot
            return .admitted(slot)
        }
    }

    /// Gives a place back (once the connection has closed and its work has finished).
    func release(_ slot: ConnectionSlot) {
        let drained = self.state.withLock { state -> [EventLoopPromise<Void>] in
            guard state.slots.removeValue(forKey: slot.id) != nil else { return [] }
            state.released += 1
            state.peers[slot.peer]!.slots -= 1
            if state.peers[slot.peer]!.slots == 0 { state.peers.removeValue(forKey: slot.peer) }
            guard state.slots.isEmpty else { return [] }
            defer { state.whenEmpty = [] }
            return state.whenEmpty
        }
        for promise in drained { promise.succeed() }
    }

    /// Completes `promise` once no place is taken (at once if none is).
    func whenEmpty(_ promise: EventLoopPromise<Void>) {
        let empty = self.state.withLock { state -> Bool in
            guard !state.slots.isEmpty else { return true }
            state.whenEmpty.append(promise)
            return false
        }
        if empty { promise.succeed() }
    }

    /// Tells every open connection that the server is shutting down (each sends GOAWAY and drains).
    func announceShutdown() {
        for channel in self.channels() {
            channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
        }
    }

    /// Closes every connection at once.
    func closeAll() {
        for channel in self.channels() { channel.close(promise: nil) }
    }

    private func channels() -> [any Channel] {
        self.state.withLock { $0.slots.values.map(\.channel) }
    }
}

/// Calls in flight over the whole server, and per peer address: work that left the event loop (a
/// write waiting for the store) is memory a client can make the server hold.
final class CallBudget: Sendable {
    // An atomic, not a lock: taken and given back once per deferred call on every event loop.
    private let total = Atomic<Int>(0)
    let limit: Int
    let perAddressLimit: Int

    init(limit: Int, perAddressLimit: Int) {
        self.limit = limit
        self.perAddressLimit = perAddressLimit
    }

    /// Calls in flight on the server now.
    var inFlight: Int { self.total.load(ordering: .relaxed) }

    /// Takes one call for `peer`; false (nothing taken) when the server or the peer is at its limit.
    func acquire(_ peer: PeerCalls) -> Bool {
        guard self.total.wrappingAdd(1, ordering: .relaxed).newValue <= self.limit else {
            self.total.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        guard peer.count.wrappingAdd(1, ordering: .relaxed).newValue <= self.perAddressLimit else {
            peer.count.wrappingSubtract(1, ordering: .relaxed)
            self.total.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Gives back a call taken by ``acquire(_:)``, once its work has finished.
    func release(_ peer: PeerCalls) {
        peer.count.wrappingSubtract(1, ordering: .relaxed)
        self.total.wrappingSubtract(1, ordering: .relaxed)
    }
}
