public import Logging
public import NIOCore
import NIOPosix
public import PorticoWire
import Synchronization

/// The entry point to a Portico server: typed calls (`client.checkPermission(request)`...) spread over a
/// small pool of multiplexed connections.
///
/// Connections open on first use and are replaced when lost or when the server sends GOAWAY. A call
/// that fails is not retried, except:
/// - once, on another connection, when the server certainly never processed it: the connection was
///   closed or going away before the call was written, or the call was above a GOAWAY's `last_call_id`;
/// - a change whose answer was lost (the connection closed after the call was written, a GOAWAY's
///   connection closed before answering it), up to `ClientConfiguration.changeRetries` times, when it
///   carries an idempotency key: the server applies it once and answers every copy alike. Every change
///   gets a key of the client's making unless its options name one (or the configuration says not to).
///   A read, or a change without a key, whose answer was lost fails with UNAVAILABLE.
///
/// Retries share the call's deadline: a retry gets what is left of it.
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
        var options = options
        if RPC.changesState, options.idempotencyKey == nil, self.configuration.generatesIdempotencyKeys {
            options.idempotencyKey = Self.newIdempotencyKey()
        }
        let deadline = (options.timeout ?? self.configuration.defaultTimeout).map { ContinuousClock.now + $0 }
        var resentUnprocessed = false
        var resentLost = 0
        while true {
            do {
                return try await self.connection().perform(rpc, request, options: options)
            } catch let error as UnprocessedCallError where !resentUnprocessed {
                self.logger.debug(
                    "resending a call the server did not process", metadata: ["reason": "\(error.status)"])
                resentUnprocessed = true
            } catch let error as LostAnswerError
                where RPC.changesState && options.idempotencyKey != nil && resentLost < self.configuration.changeRetries
            {
                resentLost += 1
                self.logger.debug(
                    "resending a change whose answer was lost, with its idempotency key",
                    metadata: ["reason": "\(error.status)", "attempt": "\(resentLost)"])
            } catch {
                throw PorticoStatusError.surfaced(error)
            }
            if let deadline {
                // A resend gets what is left of the call's deadline; none left, none sent (a negative or zero
                // timeout would reach the server as "no deadline" or fail oddly): the call fails UNAVAILABLE,
                // as it would have without the resend.
                let left = deadline - ContinuousClock.now
                guard left > .zero else {
                    throw PorticoStatusError(
                        code: .unavailable,
                        message: "the connection was lost and the call's "
                            + "deadline passed before it could be sent again")
                }
                options.timeout = left
            }
        }
    }

    /// Watches the changes after `request.afterRevision`, then each new one as it commits, on one of the
    /// pool's connections (docs/clients.md, "Watch"). The sequence ends only when the server ends the
    /// stream (it throws `PorticoStatusError`; `detail.resumeRevision` is the `afterRevision` to watch
    /// from next) or when the consumer stops iterating (the stream is cancelled on the server).
    public func watch(
        _ request: WatchRequest = WatchRequest(),
        options: CallOptions = CallOptions()
    ) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (events, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        let relay = Task {
            do {
                for try await event in try await self.connection().watch(request, options: options) {
                    continuation.yield(event)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: PorticoStatusError.surfaced(error))
            }
        }
        continuation.onTermination = { _ in relay.cancel() }
        return events
    }

    /// A fresh idempotency key: "psw_" and 32 hex digits (128 random bits from the system's generator),
    /// so that no two calls of any client share one.
    static func newIdempotencyKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = Array("psw_".utf8)
        for _ in 0..<2 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                bytes.append(digits[Int(word & 15)])
                word >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
