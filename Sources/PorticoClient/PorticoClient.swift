public import Logging
public import NIOCore
import NIOPosix
public import PorticoWire
import Synchronization

/// The entry point to a Portico server: typed calls (`client.checkPermission(request)`...) spread over a
/// small pool of multiplexed connections.
///
/// Connections open on first use and are replaced when lost or when the server sends GOAWAY. A call
/// that fails is not retried, except once, on another connection, when the server certainly never
/// processed it: the connection was closed or going away before the call was written, or the call was
/// above a GOAWAY's `last_call_id`.
public final class PorticoClient: PorticoCalling {
    /// The settings every connection is opened with.
    public let configuration: ClientConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var slots: [Slot]
        var next = 0
        var isClosed = false
        /// Connections replaced while calls were still waiting on them, closed with the client.
        var retired: [PorticoConnection] = []
    }

    private enum Slot {
        case idle
        case connecting(EventLoopFuture<PorticoConnection>)
        case ready(PorticoConnection)
    }

    private enum Pick {
        case use(PorticoConnection)
        case wait(EventLoopFuture<PorticoConnection>)
        case connect(slot: Int, EventLoopPromise<PorticoConnection>)
    }

    /// Creates a client; no connection opens until the first call.
    /// - Parameters:
    ///   - configuration: the server's address, default credential and deadline, number of connections.
    ///   - eventLoopGroup: where the connections' I/O runs, kept alive by the caller; nil for NIO's
    ///     process-wide `MultiThreadedEventLoopGroup.singleton`.
    ///   - logger: receives connection events; never credentials.
    public init(
        configuration: ClientConfiguration,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "portico.client")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.logger = logger
        self.state = Mutex(State(slots: Array(repeating: .idle, count: max(1, configuration.connections))))
    }

    /// Sends `request` as a call of `rpc` on one of the pool's connections and waits for its answer.
    /// - Throws: `PorticoStatusError`, as ``PorticoConnection/call(_:_:options:)``; UNAVAILABLE naming the
    ///   server when it cannot be reached or the client is closed.
    public func call<RPC: PorticoRPC>(
        _ rpc: RPC.Type,
        _ request: RPC.Request,
        options: CallOptions
    ) async throws -> RPC.Response {
        do {
            return try await self.connection().perform(rpc, request, options: options)
        } catch let error as UnprocessedCallError {
            self.logger.debug("retrying a call the server did not process", metadata: ["reason": "\(error.status)"])
            do {
                return try await self.connection().perform(rpc, request, options: options)
            } catch {
                throw PorticoStatusError.surfaced(error)
            }
        }
    }

    /// Closes every connection; calls in flight fail with UNAVAILABLE, and so do later calls.
    public func close() async {
        let (connections, connecting) = self.state.withLock { state in
            state.isClosed = true
            var connections = state.retired
            var connecting: [EventLoopFuture<PorticoConnection>] = []
            for slot in state.slots {
                switch slot {
                case .idle: break
                case .connecting(let future): connecting.append(future)
                case .ready(let connection): connections.append(connection)
                }
            }
            state.slots = state.slots.map { _ in .idle }
            state.retired = []
            return (connections, connecting)
        }
        await withDiscardingTaskGroup { group in
            for connection in connections {
                group.addTask { await connection.close() }
            }
            for future in connecting {
                group.addTask { await (try? future.get())?.close() }
            }
        }
    }

    /// The next connection in turn, opening or replacing it when needed.
    private func connection() async throws -> PorticoConnection {
        let pick = try self.state.withLock { state -> Pick in
            guard !state.isClosed else {
                throw PorticoStatusError(code: .unavailable, message: "the Portico client is closed")
            }
            let slot = state.next % state.slots.count
            state.next &+= 1
            switch state.slots[slot] {
            case .ready(let connection) where connection.isAcceptingCalls:
                return .use(connection)
            case .connecting(let future):
                return .wait(future)
            case .ready(let connection):
                // Going away or lost: calls still waiting on it get their answers; new ones go to a new one.
                state.retired.removeAll { $0.status == .closed }
                if connection.status != .closed { state.retired.append(connection) }
                fallthrough
            case .idle:
                let promise = self.eventLoopGroup.any().makePromise(of: PorticoConnection.self)
                state.slots[slot] = .connecting(promise.futureResult)
                return .connect(slot: slot, promise)
            }
        }
        switch pick {
        case .use(let connection):
            return connection
        case .wait(let future):
            return try await future.get()
        case .connect(let slot, let promise):
            let future = promise.futureResult
            PorticoConnection.makeConnection(
                configuration: self.configuration,
                eventLoopGroup: self.eventLoopGroup,
                logger: self.logger
            ).whenComplete { result in
                self.connected(slot: slot, future: future, result: result)
                promise.completeWith(result)
            }
            return try await future.get()
        }
    }

    /// Puts a new connection in its slot, or frees the slot so that the next call tries again.
    private func connected(
        slot: Int,
        future: EventLoopFuture<PorticoConnection>,
        result: Result<PorticoConnection, any Error>
    ) {
        let orphan = self.state.withLock { state -> PorticoConnection? in
            guard case .connecting(let current) = state.slots[slot], current === future else {
                return try? result.get()  // the client was closed meanwhile
            }
            switch result {
            case .success(let connection):
                state.slots[slot] = .ready(connection)
            case .failure:
                state.slots[slot] = .idle
            }
            return nil
        }
        orphan?.startClosing()
    }
}
